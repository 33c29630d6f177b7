// auditViewer: an Express router serving the audit trail's page and its JSON and export API.
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { ConfigError } from "../../shared/util/errors.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import type { NormalizedFilter } from "../read/filter.js";
import type { Reader, ReadFilter } from "../read/index.js";
import { PAGE_CSS } from "./page-css.js";
import { PAGE_HTML } from "./page-html.js";
import { PAGE_JS } from "./page-js.js";
import { exportQuery, recordsQuery } from "./params.js";
import { answerError, forbidden, securityHeaders } from "./respond.js";
import { checkScope, withinScope } from "./scope.js";

/** What the viewer reads, who may see it, and how much of it. */
export interface ViewerOptions {
  /** The reader of the trail (`createReader` from `auditq/reader`); a tenant-bound one keeps its tenant. */
  reader: Reader;
  /**
   * Required: whether this request may see the viewer. Only `true` (or a promise of it) lets it
   * in; anything else answers 403. A throw goes to the app's error handler, and nothing is shown.
   */
  authorize: (req: Request) => boolean | Promise<boolean>;
  /**
   * The filter every query of this request is held to, such as `{ tenant: req.user.org }`.
   * The page's parameters may narrow it and never widen it: a parameter that contradicts it
   * answers 403. Return `{}` for no limit; returning nothing is an error (the viewer fails
   * closed). Default: no scope.
   */
  scope?: ((req: Request) => ReadFilter | Promise<ReadFilter>) | undefined;
}

const OPTION_KEYS = ["reader", "authorize", "scope"];

function checkOptions(options: unknown): asserts options is ViewerOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError("auditViewer: expected an options object { reader, authorize, scope }");
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new ConfigError(
        `auditViewer: unknown option ${JSON.stringify(key.slice(0, 64))}; known: ${OPTION_KEYS.join(", ")}`,
        { option: key },
      );
    }
  }
  const { reader, authorize, scope } = options as Record<string, unknown>;
  const r = reader as Partial<Reader> | undefined;
  if (typeof r?.find !== "function" || typeof r.export !== "function") {
    throw new ConfigError("auditViewer: reader: expected a reader from createReader()", {
      option: "reader",
    });
  }
  if (typeof authorize !== "function") {
    throw new ConfigError(
      "auditViewer: authorize is required: a function (req) => boolean | Promise<boolean>; the viewer has no default-open mode",
      { option: "authorize" },
    );
  }
  if (scope !== undefined && typeof scope !== "function") {
    throw new ConfigError("auditViewer: scope: expected a function (req) => filter", {
      option: "scope",
    });
  }
}

type Handler = (req: Request, res: Response) => Promise<void>;

/**
 * The audit trail viewer, to mount where the app wants it:
 * `app.use("/audit", auditViewer({ reader, authorize }))`. Serves the page (`GET /`, with
 * `/app.js` and `/app.css`), `GET /api/records` (`{ records, next }`) and `GET /api/export`
 * (CSV or NDJSON). Every route asks `authorize` first. Throws ConfigError for bad options.
 */
export function auditViewer(options: ViewerOptions): Router {
  checkOptions(options);
  const { reader, authorize, scope } = options;
  const router = express.Router();

  async function filterFor(req: Request, page: ReadFilter): Promise<ReadFilter> {
    if (scope === undefined) return page;
    const bound: NormalizedFilter = checkScope(await scope(req));
    return withinScope(page, bound);
  }

  // Express 4 does not catch a rejected promise; every async handler passes its error on here.
  const route =
    (handler: Handler) =>
    (req: Request, res: Response, next: NextFunction): void => {
      handler(req, res).catch((err: unknown) => answerError(err, res, next));
    };

  router.use(securityHeaders);
  router.use((req, res, next) => {
    Promise.resolve()
      .then(() => authorize(req))
      .then((allowed) => (allowed === true ? next() : forbidden(req, res)))
      // A failing authorize is the app's error; the request is not let in.
      .catch((err: unknown) => next(err));
  });

  router.get("/", (req, res) => {
    // The page loads app.js and app.css by relative URLs: it must be served at a path ending
    // in "/". A relative Location to the mount's last segment cannot lead off the site.
    if (req.originalUrl.split("?")[0]?.endsWith("/") !== true) {
      const segment = req.baseUrl.slice(req.baseUrl.lastIndexOf("/") + 1);
      const at = req.originalUrl.indexOf("?");
      const query = at === -1 ? "" : req.originalUrl.slice(at);
      res.status(308).set("Location", `./${segment}/${query}`).end();
      return;
    }
    res.type("html").send(PAGE_HTML);
  });
  router.get("/app.js", (_req, res) => {
    res.type("text/javascript").send(PAGE_JS);
  });
  router.get("/app.css", (_req, res) => {
    res.type("text/css").send(PAGE_CSS);
  });

  router.get(
    "/api/records",
    route(async (req, res) => {
      const asked = recordsQuery(req.url);
      const page = await reader.find(await filterFor(req, asked.filter), asked.options);
      // Relaxed Extended JSON, as the NDJSON export writes each record.
      const records = page.records.map((record) => serializeRecord(record)).join(",");
      res.type("json").send(`{"records":[${records}],"next":${JSON.stringify(page.next)}}`);
    }),
  );

  router.get(
    "/api/export",
    route(async (req, res) => {
      const asked = exportQuery(req.url);
      const filter = await filterFor(req, asked.filter);
      const body = reader.export(filter, { format: asked.format, order: asked.order });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      res.type(asked.format === "csv" ? "text/csv" : "application/x-ndjson");
      res.set("Content-Disposition", `attachment; filename="audit-${stamp}.${asked.format}"`);
      await new Promise<void>((resolve, reject) => {
        body.once("error", reject);
        // A client that goes away stops the export, and with it the MongoDB cursor.
        res.once("close", () => {
          if (!res.writableFinished) body.destroy();
          resolve();
        });
        body.pipe(res);
      });
    }),
  );

  return router;
}
