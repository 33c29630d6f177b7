// Merging digests' runs of entries into one sorted stream, a chunk at a time.
import { describe, expect, it } from "vitest";
import { type EntryRun, mergeRuns } from "../../../../sidecar/verify/merge.js";

async function* runsOf(runs: number[][]): AsyncGenerator<EntryRun<number>> {
  for (const entries of runs) yield { entries };
}

async function merged(runs: number[][]): Promise<{ items: number[]; chunks: number }> {
  const items: number[] = [];
  let chunks = 0;
  for await (const chunk of mergeRuns(runsOf(runs), (a, b) => a - b)) {
    chunks++;
    items.push(...chunk);
  }
  return { items, chunks };
}

describe("mergeRuns", () => {
  it("yields runs that follow one another whole, one chunk each", async () => {
    const { items, chunks } = await merged([[1, 2, 3], [4, 5], [], [6]]);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    expect(chunks).toBe(3);
  });

  it("merges overlapping runs in order, equal keys included", async () => {
    const runs = [
      [1, 4, 9, 12],
      [2, 3, 4, 20],
      [4, 5, 6],
      [7, 30],
      [8, 9, 10],
      [31, 32],
    ];
    const { items } = await merged(runs);
    expect(items).toEqual(runs.flat().sort((a, b) => a - b));
  });

  it("merges many random overlapping runs in order", async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const runs: number[][] = [];
    let start = 0;
    for (let r = 0; r < 200; r++) {
      start += Math.floor(random() * 10);
      const run = [start];
      for (let i = 1; i < random() * 20; i++)
        run.push((run.at(-1) as number) + Math.floor(random() * 5));
      runs.push(run);
    }
    const { items } = await merged(runs);
    expect(items).toEqual(runs.flat().sort((a, b) => a - b));
  });
});
