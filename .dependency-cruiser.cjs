// Import boundaries, checked by `npm run lint` (depcruise): dependencies point one way.
// shared/ is the floor both sides stand on; the two sides never import each other; inside the
// middleware, the spool is a lower stage than the batcher that drains it; and no cycles, type-only
// imports included.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "shared-imports-nothing-above",
      comment: "shared/ holds what both sides share; it must not depend on either side.",
      severity: "error",
      from: { path: "^shared/" },
      to: { path: "^(middleware|sidecar|test|bench|scripts|deploy)/" },
    },
    {
      name: "middleware-not-sidecar",
      comment: "The middleware runs in web apps; it must never pull in the sidecar.",
      severity: "error",
      from: { path: "^middleware/" },
      to: { path: "^sidecar/" },
    },
    {
      name: "sidecar-not-middleware",
      comment: "The sidecar stands on shared/ only, never on the middleware.",
      severity: "error",
      from: { path: "^sidecar/" },
      to: { path: "^middleware/" },
    },
    {
      name: "spool-not-batcher",
      comment: "The spool is a lower stage: the batcher uses it, never the other way round.",
      severity: "error",
      from: { path: "^middleware/spool/" },
      to: { path: "^middleware/batcher/" },
    },
    {
      name: "sources-not-tests",
      comment: "Published code never imports tests, benches or scripts.",
      severity: "error",
      from: { path: "^(middleware|sidecar|shared)/" },
      to: { path: "^(test|bench|scripts|deploy)/" },
    },
    {
      name: "no-circular",
      comment: "No import cycles, type-only imports included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
