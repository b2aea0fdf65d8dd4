/**
 * Key layout: `<prefix>:v<FORMAT>:<area>:<parts...>`. The format version lets a release change a
 * stored shape without misreading old entries; parts are escaped so user-controlled identifiers
 * (consumer names, header values) cannot forge another key.
 */
import { createHash } from 'node:crypto';

export const KEY_FORMAT = 1;

/** Escape one key part: ':' and '%' become percent escapes, length is bounded by hashing. */
export function keyPart(part: string): string {
  const esc = part
    .replace(/%/g, '%25')
    .replace(/:/g, '%3A')
    .replace(/[\s\u0000-\u001f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (esc.length <= 200) return esc;
  // Long identifiers (e.g. header values) keep a readable head and a collision-resistant tail.
  return `${esc.slice(0, 64)}~${createHash('sha256').update(part).digest('hex').slice(0, 32)}`;
}

/** Build a namespaced key. */
export function makeKey(prefix: string, area: string, ...parts: (string | number)[]): string {
  return [prefix, `v${KEY_FORMAT}`, area, ...parts.map((p) => keyPart(String(p)))].join(':');
}
