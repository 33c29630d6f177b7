// A seeded pseudo-random generator for simulations and property-style tests that must give the
// same draws every run. Hand-written (mulberry32, a dozen lines) rather than a dependency.

/** A generator of numbers in [0, 1) seeded by `seed` (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
