export * from "./backoff.js";
export * from "./envelope.js";
export * from "./errors.js";
export * from "./logger.js";
export * from "./record.js";
export * from "./sqs-limits.js";
