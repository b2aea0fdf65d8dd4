/**
 * Denied / allowed topics by embedding similarity (Kong EE ai-semantic-prompt-guard semantics: deny first,
 * then, when allow topics exist, a checked message must be similar to one of them).
 *
 * Topic descriptions are embedded once per plugin instance (retried on the next request if that fails).
 * A message is compared whole and, when it has several sentences, sentence by sentence, because an averaged
 * vector dilutes one off-limits request inside a longer prompt. Deny uses
 * the best window; allow uses the whole message (one on-topic sentence must not make a long prompt allowed).
 */
import { dot, type Embedder } from '../../lib/embeddings';
import type { GuardMessage } from './texts';

export const WINDOW_CHARS = 400;
/** Characters of one message embedded as "whole" (embedding APIs have input limits). */
export const WHOLE_CHARS = 8000;
const MAX_WINDOWS_PER_MESSAGE = 24;
const MAX_TEXTS = 96;

export interface TopicResult {
  /** Index into deny_prompts of the best denied topic at or above the threshold. */
  denyIndex?: number;
  /** True when allow topics exist and a checked message matched none. */
  noAllowMatch: boolean;
  /** The similarity that decided (best deny similarity, or the weakest allow match). */
  similarity: number;
}

/**
 * The windows of a message compared on their own besides the whole text: its sentences (split at
 * `.`/`!`/`?`/line breaks; sentences longer than `size` are cut at whitespace). Empty for one-sentence
 * texts. At most {@link MAX_WINDOWS_PER_MESSAGE}: the head two thirds and the tail third.
 */
export function windows(text: string, size = WINDOW_CHARS): string[] {
  const out: string[] = [];
  for (const raw of text.split(/(?<=[.!?])\s+|\n+/)) {
    let s = raw.trim();
    while (s.length > size) {
      let end = s.lastIndexOf(' ', size);
      if (end < size / 2) end = size;
      out.push(s.slice(0, end).trim());
      s = s.slice(end).trim();
    }
    if (s.length >= 8) out.push(s);
  }
  if (out.length <= 1) return [];
  if (out.length <= MAX_WINDOWS_PER_MESSAGE) return out;
  // Head and tail: an off-limits request tends to sit at either end of pasted material.
  const head = Math.ceil((MAX_WINDOWS_PER_MESSAGE * 2) / 3);
  return [...out.slice(0, head), ...out.slice(out.length - (MAX_WINDOWS_PER_MESSAGE - head))];
}

export class TopicMatcher {
  private vectors: Promise<{ deny: Float32Array[]; allow: Float32Array[] }> | undefined;

  constructor(
    private readonly embedder: Embedder,
    private readonly deny: readonly string[],
    private readonly allow: readonly string[],
    readonly threshold: number,
  ) {}

  /** Embed the topics (once; a failure is retried by the next call). */
  topics(): Promise<{ deny: Float32Array[]; allow: Float32Array[] }> {
    if (!this.vectors) {
      const p = this.embedder.embed([...this.deny, ...this.allow]).then((v) => {
        if (v.length !== this.deny.length + this.allow.length)
          throw new Error('embedder returned a wrong number of vectors');
        return { deny: v.slice(0, this.deny.length), allow: v.slice(this.deny.length) };
      });
      this.vectors = p;
      p.catch(() => {
        if (this.vectors === p) this.vectors = undefined;
      });
    }
    return this.vectors;
  }

  /** Check the given messages (already selected by role and history settings). */
  async check(messages: readonly GuardMessage[]): Promise<TopicResult> {
    const texts: string[] = [];
    const wholeIdx: number[] = [];
    for (const m of messages) {
      if (texts.length >= MAX_TEXTS) break;
      const c = m.content.trim();
      if (!c) continue;
      wholeIdx.push(texts.length);
      texts.push(c.slice(0, WHOLE_CHARS));
      if (this.deny.length) for (const w of windows(c)) if (texts.length < MAX_TEXTS) texts.push(w);
    }
    if (!texts.length) return { noAllowMatch: false, similarity: 0 };
    const [topics, vecs] = await Promise.all([this.topics(), this.embedder.embed(texts)]);

    let bestDeny = -1;
    let bestDenyIdx = -1;
    for (const v of vecs) {
      topics.deny.forEach((t, i) => {
        const s = dot(v, t);
        if (s > bestDeny) {
          bestDeny = s;
          bestDenyIdx = i;
        }
      });
    }
    if (bestDenyIdx >= 0 && bestDeny >= this.threshold) {
      return { denyIndex: bestDenyIdx, noAllowMatch: false, similarity: round(bestDeny) };
    }
    if (topics.allow.length) {
      let weakest = 1;
      for (const i of wholeIdx) {
        const v = vecs[i];
        if (!v) continue;
        const best = Math.max(...topics.allow.map((t) => dot(v, t)));
        weakest = Math.min(weakest, best);
      }
      if (weakest < this.threshold) return { noAllowMatch: true, similarity: round(weakest) };
      return { noAllowMatch: false, similarity: round(Math.max(0, bestDeny)) };
    }
    return { noAllowMatch: false, similarity: round(Math.max(0, bestDeny)) };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
