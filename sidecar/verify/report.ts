// What `auditq verify` found: the report's shape (its --json output) and how findings are kept
// within a bound however many there are.
import type { LossReason } from "../../shared/wire/stream.js";

/** A record named by a finding: its `_id` (hex) and, when it has one, its place in a stream. */
export interface RecordRef {
  id: string;
  stream?: string;
  n?: number;
}

/** Numbers of a stream missing from the collection and from every digest. */
export interface Gap {
  stream: string;
  from: number;
  to: number;
  /** The producer's stated reason, `expired` (before the retention cut-off), or `unexplained`. */
  reason: LossReason | "expired" | "unexplained";
}

/** A stream without its end mark: records captured after its last message are invisible. */
interface Unclosed {
  stream: string;
  /** Largest `n` stored (null when none is in the range). */
  lastStored: number | null;
  /** The stream's high-water mark as the sidecar recorded it (null when not recorded). */
  hwm: number | null;
}

/** A digest that cannot be trusted: its chain is broken, or its signature is missing or wrong. */
interface DigestProblem {
  digest: string;
  writer: string;
  k: number;
  problem: string;
}

/** The whole report: `auditq verify --json` prints it as one object. */
export interface VerifyReport {
  /** Nothing unexplained: no unexplained gap, no altered, deleted or unaccounted record, no bad digest. */
  ok: boolean;
  /** Records read. */
  records: number;
  /** Streams seen. */
  streams: number;
  gaps: Gap[];
  unclosed: Unclosed[];
  altered: RecordRef[];
  deleted: RecordRef[];
  unaccounted: RecordRef[];
  digestProblems: DigestProblem[];
  /** Records a digest names that retention removed (before the largest cut-off): not deleted. */
  expired: number;
  /** Digests read. */
  digests: number;
  /** Findings per list beyond `maxListed` are counted here, not listed. */
  notListed: Partial<
    Record<"gaps" | "unclosed" | "altered" | "deleted" | "unaccounted" | "digestProblems", number>
  >;
}

/** Most findings listed per kind; more are only counted (`notListed`). */
const MAX_LISTED = 10_000;

type ListName = keyof VerifyReport["notListed"];

/** A report being filled. */
export class Findings {
  readonly report: VerifyReport = {
    ok: true,
    records: 0,
    streams: 0,
    gaps: [],
    unclosed: [],
    altered: [],
    deleted: [],
    unaccounted: [],
    digestProblems: [],
    expired: 0,
    digests: 0,
    notListed: {},
  };

  constructor(private readonly maxListed = MAX_LISTED) {}

  /** Adds a finding to `list`; `fails` says whether it makes the report not ok. */
  add<L extends ListName>(list: L, item: VerifyReport[L][number], fails = true): void {
    if (fails) this.report.ok = false;
    const items = this.report[list] as unknown[];
    if (items.length < this.maxListed) items.push(item);
    else this.report.notListed[list] = (this.report.notListed[list] ?? 0) + 1;
  }
}
