// One value read from Prometheus text output (a registry's `metrics()` or a /metrics body).

/** The value on the line `name value` of Prometheus text output (`name` is a regular expression, so a label selector needs its braces escaped); 0 when absent. */
export function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}
