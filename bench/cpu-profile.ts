// A V8 CPU profile of this process (inspector), and where its main-thread time went by step.
import { Session } from "node:inspector/promises";

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Starts profiling this process's main thread; the returned function stops and returns it. */
export async function startCpuProfile(): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = (await session.post("Profiler.stop")) as { profile: CpuProfile };
    session.disconnect();
    return profile;
  };
}

/** A step of the pipeline, recognised by any frame of a sample's stack. */
export interface StepRule {
  step: string;
  matches(frame: CallFrame): boolean;
}

/**
 * Milliseconds of main-thread time per step. Each sample goes to the first rule (in the order
 * given) that matches any frame of its stack, so a rule listed first wins over what it calls:
 * the decoder's ObjectId construction is "parse", not "insert", though bson serves both.
 * V8's own entries (`(garbage collector)`, `(idle)`, `(program)`) are steps of their own;
 * samples matching no rule are "other".
 */
export function timeBySteps(profile: CpuProfile, rules: readonly StepRule[]): Map<string, number> {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stepOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stepOf.get(id);
    if (known !== undefined) return known;
    const leaf = byId.get(id)?.callFrame.functionName ?? "";
    let step = leaf.startsWith("(") && leaf !== "(anonymous)" ? leaf : "other";
    if (step === "other") {
      let best = rules.length;
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)?.callFrame;
        if (frame === undefined) continue;
        const i = rules.findIndex((r) => r.matches(frame));
        if (i !== -1 && i < best) best = i;
      }
      if (best < rules.length) step = (rules[best] as StepRule).step;
    }
    stepOf.set(id, step);
    return step;
  };
  const ms = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const step = classify(profile.samples[i] as number);
    ms.set(step, (ms.get(step) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return ms;
}
