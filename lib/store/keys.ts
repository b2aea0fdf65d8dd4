/**
 * Key layout: `<prefix>:v<FORMAT>:<area>:<parts...>`. The format version lets a release change a
 * stored shape without misreading old entries; parts are escaped so user-controlled identifiers
 * (consumer names, header values) cannot forge another key.
 *
 * Redis Cluster: a multi-key script must touch keys of one hash slot. A part wrapped with `tag()` is
 * written as `{part}`, so every key built with the same tagged part hashes to the same slot (Redis
 * hashes only the text between the first `{` and the next `}`). Escaping removes braces from every
 * other part, so user input can neither create nor move a tag.
 */
import { createHash } from 'node:crypto';

export const KEY_FORMAT = 1;

/** A key part that decides the hash slot of the key (see `tag`). */
export interface TagPart {
  readonly tag: string;
}

/** Mark a part as the key's hash tag: keys sharing it share a Redis Cluster slot. */
export function tag(part: string | number): TagPart {
  return { tag: String(part) };
}

/** Escape one key part: ':', '%', braces and control characters become percent escapes; long parts are hashed. */
export function keyPart(part: string): string {
  const esc = part
    .replace(/%/g, '%25')
    .replace(/:/g, '%3A')
    .replace(/\{/g, '%7B')
    .replace(/\}/g, '%7D')
    .replace(/[\s\u0000-\u001f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (esc.length <= 200) return esc;
  // Long identifiers (e.g. header values) keep a readable head and a collision-resistant tail.
  return `${esc.slice(0, 64)}~${createHash('sha256').update(part).digest('hex').slice(0, 32)}`;
}

/** The written form of a tagged part, `{escaped}`. */
export function tagPart(part: string | number): string {
  return `{${keyPart(String(part))}}`;
}

/** Build a namespaced key. */
export function makeKey(prefix: string, area: string, ...parts: (string | number | TagPart)[]): string {
  return [
    prefix,
    `v${KEY_FORMAT}`,
    area,
    ...parts.map((p) => (typeof p === 'object' ? tagPart(p.tag) : keyPart(String(p)))),
  ].join(':');
}

/** Undo `keyPart` escaping (and strip a tag's braces) of one written part. */
export function unescapePart(written: string): string {
  const inner = written.startsWith('{') && written.endsWith('}') ? written.slice(1, -1) : written;
  return decodeURIComponent(inner);
}

// CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster maps keys to slots with.
const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(buf: Uint8Array): number {
  let crc = 0;
  for (const byte of buf) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The Redis Cluster hash slot (0..16383) of a key, honouring `{hash tags}` the way Redis does. */
export function hashSlot(key: string): number {
  const buf = Buffer.from(key, 'utf8');
  const open = buf.indexOf(0x7b);
  if (open >= 0) {
    const close = buf.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(buf.subarray(open + 1, close)) & 16383;
  }
  return crc16(buf) & 16383;
}
