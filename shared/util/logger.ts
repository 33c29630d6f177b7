// The logger both sides accept: the subset of pino's API auditq calls.

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** A pino-compatible logger. pino, and anything with these four methods, fits. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/**
 * The default for the middleware, which must stay quiet inside someone else's app:
 * warnings and errors go to the console, nothing else does.
 */
export const consoleLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => console.warn(`[auditq] ${msg ?? ""}`, obj),
  error: (obj, msg) => console.error(`[auditq] ${msg ?? ""}`, obj),
};
