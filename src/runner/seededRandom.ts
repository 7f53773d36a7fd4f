// tfjs draws every unseeded random number (weight initialisers, shuffles, dropout masks) from a
// generator seeded by Math.random. Replacing Math.random with a seeded generator before the
// user's file runs makes the same file and seed give the same trace.

/** mulberry32: small, fast, and good enough for initialisation and shuffling. */
export function seededGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedMathRandom(seed: number): void {
  Math.random = seededGenerator(seed);
}

/** A permutation of 0..n-1 drawn from `random`. */
export function shuffledIndices(n: number, random: () => number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
