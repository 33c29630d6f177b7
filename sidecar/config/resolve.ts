// Resolves the public SidecarOptions into a Config, validated against the option table.
// Every default is in option-table.ts; no I/O here, no clients built.
import { defaultsOf, type Resolved, resolveTable } from "../../shared/util/option-table.js";
import { invalid } from "../../shared/util/validate.js";
import { SIDECAR_OPTIONS } from "./option-table.js";
import type { SidecarOptions } from "./options.js";

/**
 * The fully resolved, read-only settings the sidecar runs with. The clients (`mongo`, `sqs`,
 * `registry`) are as given: clients.ts builds the missing ones.
 */
export type Config = Resolved<typeof SIDECAR_OPTIONS> & {
  /** The `signingSecret` option as a list; empty when messages are not checked. */
  readonly signingSecrets: readonly string[];
};

/** Every default of the sidecar's options, frozen (read from the option table). */
export const DEFAULTS = defaultsOf(SIDECAR_OPTIONS);

/** Validates `options` and fills in defaults. Never mutates `options`. Throws ConfigError. */
export function resolveOptions(options: SidecarOptions): Config {
  if (typeof options !== "object" || options === null) {
    invalid("options", "an object", options);
  }
  const resolved = resolveTable(SIDECAR_OPTIONS, options, "", "sidecar option");
  return Object.freeze({ ...resolved, signingSecrets: resolved.signingSecret ?? [] });
}
