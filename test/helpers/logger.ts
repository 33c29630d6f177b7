// A logger that keeps test output clean.
import type { Logger } from "../../shared/util/logger.js";

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
