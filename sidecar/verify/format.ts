// The report of `auditq verify` as text for people: a verdict line, then each kind of finding,
// and what an unclosed stream means.
import type { RecordRef, VerifyReport } from "./report.js";

const ref = (r: RecordRef) =>
  r.stream === undefined ? r.id : `${r.id} (stream ${r.stream} n ${r.n})`;

function section(
  lines: string[],
  title: string,
  items: readonly string[],
  more: number | undefined,
): void {
  if (items.length === 0) return;
  lines.push("", `${title}:`);
  for (const item of items) lines.push(`  ${item}`);
  if (more) lines.push(`  … and ${more} more`);
}

/** The report as lines of text. */
export function formatReport(report: VerifyReport): string {
  const lines = [
    report.ok ? "OK: nothing unexplained found." : "NOT OK: unexplained findings below.",
    `${report.records} records, ${report.streams} streams, ${report.digests} digests read; ${report.expired} records expired (retention).`,
  ];
  const { notListed } = report;
  section(
    lines,
    "Gaps (numbers missing from the collection and from every digest)",
    report.gaps.map(
      (g) => `stream ${g.stream}: ${g.from}${g.to === g.from ? "" : `..${g.to}`} ${g.reason}`,
    ),
    notListed.gaps,
  );
  section(
    lines,
    "Altered (stored bytes differ from the digest)",
    report.altered.map(ref),
    notListed.altered,
  );
  section(
    lines,
    "Deleted (in a digest, not in the collection)",
    report.deleted.map(ref),
    notListed.deleted,
  );
  section(
    lines,
    "Unaccounted (in the collection, in no trusted digest)",
    report.unaccounted.map(ref),
    notListed.unaccounted,
  );
  section(
    lines,
    "Digest problems",
    report.digestProblems.map((p) => `${p.digest} (writer ${p.writer} k ${p.k}): ${p.problem}`),
    notListed.digestProblems,
  );
  section(
    lines,
    "Unclosed streams (no end mark)",
    report.unclosed.map(
      (u) =>
        `stream ${u.stream}: last stored n ${u.lastStored ?? "none"}, high-water mark ${u.hwm ?? "not recorded"}`,
    ),
    notListed.unclosed,
  );
  if (report.unclosed.length > 0) {
    lines.push(
      "  A stream without an end mark is still running, or its process stopped without a clean",
      "  close(). Records it captured after its last message are invisible to anyone;",
      '  durability: "disk" keeps them on disk and sends them from the next start.',
    );
  }
  return lines.join("\n");
}
