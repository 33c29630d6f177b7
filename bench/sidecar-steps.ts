// The sidecar's steps as a CPU profile shows them: which frames belong to which step.
import type { StepRule } from "./cpu-profile.js";

const inFile = (pattern: RegExp) => (f: { url: string }) => pattern.test(f.url);
const named = (file: RegExp, functions: RegExp) => (f: { url: string; functionName: string }) =>
  file.test(f.url) && functions.test(f.functionName);

/**
 * In priority order: a sample whose stack holds frames of several steps goes to the first.
 * Async continuations lose their callers, so the SQS client's response handling (receive and
 * delete alike) lands in "SQS client", and the driver's reply handling in "insert".
 */
export const SIDECAR_STEPS: StepRule[] = [
  { step: "(profiler start/stop)", matches: inFile(/^node:inspector/) },
  {
    step: "parse (JSON + $oid/$date)",
    matches: (f) =>
      /shared\/wire\/ejson-parse\.ts/.test(f.url) ||
      named(/shared\/wire\/decoder\.ts/, /^decodeBody$/)(f) ||
      /extended_json/.test(f.url),
  },
  { step: "bound scan (json-bounds)", matches: inFile(/shared\/wire\/json-bounds\.ts/) },
  {
    step: "decompress (base64, zlib JS side, utf8)",
    matches: (f) =>
      named(/shared\/wire\/decoder\.ts/, /^(decodeMessage|measureMessage|decodeMeasured)$/)(f) ||
      /zlib/.test(f.url),
  },
  { step: "id handling (record-id)", matches: inFile(/sidecar\/receive\/record-id\.ts/) },
  {
    step: "settle (delete / release)",
    matches: (f) =>
      /sidecar\/settle\/(settler|settle-batcher)\.ts/.test(f.url) ||
      named(/sidecar\/receive\/sqs-ops\.ts/, /deleteMessages|changeVisibility|batched/)(f),
  },
  {
    step: "digests (hash, chain, write)",
    matches: inFile(
      /sidecar\/(verify\/(canonical|canonical-writer|digest)|write\/digest-writer)\.ts/,
    ),
  },
  { step: "stream marks", matches: inFile(/sidecar\/settle\/(streams|stream-gaps)\.ts/) },
  {
    step: "insert (driver, BSON, bulk writer)",
    matches: (f) =>
      /node_modules\/(mongodb|bson)\//.test(f.url) ||
      /sidecar\/(write\/bulk-writer|write\/mongo-sink|receive\/record-buffer)\.ts/.test(f.url),
  },
  {
    step: "receive (intake, poller)",
    matches: inFile(/sidecar\/receive\/(intake|poller|sqs-ops)\.ts/),
  },
  {
    step: "SQS client (send, sign, parse reply)",
    matches: inFile(/node_modules\/(@aws-sdk|@smithy|@aws-crypto|fast-xml-parser)\//),
  },
  { step: "metrics (prom-client)", matches: inFile(/node_modules\/prom-client\//) },
];
