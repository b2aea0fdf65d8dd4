/**
 * Remembers recent injection-scan results by a hash of (source, text). Chat clients resend the whole history
 * with every turn, so without it a 50-turn conversation rescans 49 unchanged messages per request (quadratic
 * CPU over the conversation). The detector is deterministic for a given config, and a memo lives with one
 * plugin instance (one config), so a remembered result is exactly what a rescan would return.
 * SHA-256, not a cheaper hash: a collision would let a crafted text borrow another text's verdict.
 */
import { createHash } from 'node:crypto';
import type { InjectionDetector, MessageSource, ScanResult } from './detect/types';

export const DEFAULT_MEMO_ENTRIES = 4096;

export class ScanMemo {
  private readonly entries = new Map<string, ScanResult>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly detector: InjectionDetector,
    private readonly maxEntries = DEFAULT_MEMO_ENTRIES,
  ) {}

  scan(text: string, source: MessageSource): ScanResult {
    const key = createHash('sha256').update(source).update('\u0000').update(text).digest('base64');
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh: Map order is insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.hits++;
      return hit;
    }
    const r = this.detector.scan(text, source);
    this.entries.set(key, r);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.misses++;
    return r;
  }

  get size(): number {
    return this.entries.size;
  }
}
