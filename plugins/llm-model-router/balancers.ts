/**
 * Pure balancing primitives: smooth weighted round-robin, weighted rendezvous hashing (consistent
 * hashing with minimal remapping), EWMA and "lowest score, ties by weight" selection. No I/O, no
 * clock: the handler feeds them the health/latency/usage snapshot of one request.
 */

/** What a balancer needs to know about a candidate. */
export interface Weighted {
  name: string;
  weight: number;
}

/**
 * Smooth weighted round-robin (the nginx upstream algorithm): every pick adds each candidate's weight
 * to its current value, takes the largest and subtracts the total from it. Over any `total` picks each
 * candidate is chosen exactly `weight` times, spread evenly rather than in bursts. State is kept per
 * distinct candidate set, so a rule's subset does not disturb the full set's sequence.
 */
export class SmoothWrr {
  private readonly sets = new Map<string, Map<string, number>>();

  pick<T extends Weighted>(cands: readonly T[]): T {
    if (cands.length === 0) throw new Error('no candidates');
    if (cands.length === 1) return cands[0]!;
    const key = cands.map((c) => c.name).join('\u0000');
    let cur = this.sets.get(key);
    if (!cur) {
      if (this.sets.size > 1000) this.sets.clear(); // bounded: candidate sets come from config, health changes add a few
      cur = new Map();
      this.sets.set(key, cur);
    }
    let total = 0;
    let best: T | undefined;
    let bestVal = -Infinity;
    for (const c of cands) {
      const v = (cur.get(c.name) ?? 0) + c.weight;
      cur.set(c.name, v);
      total += c.weight;
      if (v > bestVal) {
        bestVal = v;
        best = c;
      }
    }
    cur.set(best!.name, bestVal - total);
    return best!;
  }
}

/** 32-bit FNV-1a over UTF-16 code units, with a seed, finished with a murmur-style avalanche. */
function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in (0, 1) derived from a string (about 52 bits). */
export function unitHash(s: string): number {
  const hi = hash32(s, 0x9e3779b9) >>> 6; // 26 bits
  const lo = hash32(s, 0x7f4a7c15) >>> 6; // 26 bits
  return (hi * 67108864 + lo + 0.5) / 4503599627370496;
}

/**
 * Weighted rendezvous (highest random weight) hashing: every candidate scores `-weight / ln(u)` with
 * `u` a hash of (key, candidate); the highest score wins. A key stays on its target while that target
 * is a candidate; removing a target moves only the keys it owned, and they come back when it returns.
 */
export function rendezvous<T extends Weighted>(key: string, cands: readonly T[]): T {
  if (cands.length === 0) throw new Error('no candidates');
  let best = cands[0]!;
  let bestScore = -Infinity;
  for (const c of cands) {
    const score = -c.weight / Math.log(unitHash(`${key}\u0000${c.name}`));
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** Exponentially weighted moving average; the first sample is taken as is. */
export function ewma(prev: number | undefined, sample: number, alpha: number): number {
  if (prev === undefined || !Number.isFinite(prev)) return sample;
  return prev + alpha * (sample - prev);
}

/**
 * The candidates with the lowest score (within a relative `tolerance`), for a tie-break by weight.
 * Candidates without a score (no samples yet) score 0 so that they are explored first.
 */
export function lowest<T>(cands: readonly T[], score: (c: T) => number | undefined, tolerance = 0): T[] {
  let min = Infinity;
  const scores = cands.map((c) => {
    const s = score(c) ?? 0;
    if (s < min) min = s;
    return s;
  });
  const limit = min + Math.abs(min) * tolerance + 1e-9;
  return cands.filter((_, i) => (scores[i] ?? Infinity) <= limit);
}

/** Price in USD (per request) of `prompt` input and `output` completion tokens at per-1M prices. */
export function requestCost(prompt: number, output: number, inputCost: number, outputCost: number): number {
  return (prompt * inputCost + output * outputCost) / 1e6;
}
