/**
 * Locates files shipped under `data/` (word vectors, the prompt-guard model) from wherever the code runs: the
 * source tree (`lib/` → `../data`) or the build (`dist/lib/` → `../../data`; the Docker image keeps that layout).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Path of `data/<parts…>`; throws, naming every place looked at, when it is missing. */
export function shippedDataFile(what: string, ...parts: string[]): string {
  const candidates = [join(__dirname, '..', 'data', ...parts), join(__dirname, '..', '..', 'data', ...parts)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`${what} not found (looked for ${candidates.join(', ')})`);
}
