/**
 * Image token estimation following OpenAI's published vision cost formulas.
 *
 * Tile models (gpt-4o, gpt-4.1, gpt-4.5, gpt-4-turbo, o1/o3, gpt-5, gpt-4o-mini): `detail: low` costs the base;
 * otherwise the image is fitted into 2048×2048, then scaled down so its shortest side is at most 768 px, and costs
 * `base + tile × ceil(w/512) × ceil(h/512)`. `detail: auto` is treated as `high` (upper bound).
 * Patch models (gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano): 32 px patches, capped at 1536 patches (the image is
 * scaled down to fit), times a per-model multiplier.
 *
 * The size is read from `data:` URLs (PNG, GIF, WebP, JPEG headers). For remote URLs the size is unknown and the
 * image is costed as 1024×1024 (765 tokens on gpt-4o), flagged approximate.
 */

/** Per-family constants. */
type ImageFamily = { kind: 'tile'; base: number; tile: number } | { kind: 'patch'; multiplier: number };

function familyFor(model: string): ImageFamily {
  const m = model.toLowerCase().replace(/^[a-z_]+\//, '');
  if (/^gpt-4\.1-mini|^gpt-5-mini/.test(m)) return { kind: 'patch', multiplier: 1.62 };
  if (/^gpt-4\.1-nano|^gpt-5-nano/.test(m)) return { kind: 'patch', multiplier: 2.46 };
  if (/^o4-mini/.test(m)) return { kind: 'patch', multiplier: 1.72 };
  if (/^gpt-4o-mini/.test(m)) return { kind: 'tile', base: 2833, tile: 5667 };
  if (/^(o1|o3)(?!-mini)/.test(m)) return { kind: 'tile', base: 75, tile: 150 };
  if (/^gpt-5/.test(m)) return { kind: 'tile', base: 70, tile: 140 };
  return { kind: 'tile', base: 85, tile: 170 };
}

/** Size assumed for images whose dimensions cannot be read (remote URLs, unknown formats). */
export const UNKNOWN_IMAGE_SIZE = { width: 1024, height: 1024 } as const;

/**
 * Estimated prompt tokens of one image for a model. `width`/`height` undefined → {@link UNKNOWN_IMAGE_SIZE}.
 */
export function imageTokens(
  model: string,
  width: number | undefined,
  height: number | undefined,
  detail?: string,
): number {
  let w = width !== undefined && width > 0 ? width : UNKNOWN_IMAGE_SIZE.width;
  let h = height !== undefined && height > 0 ? height : UNKNOWN_IMAGE_SIZE.height;
  const fam = familyFor(model);
  if (fam.kind === 'patch') {
    const P = 32;
    const MAX = 1536;
    let patches = Math.ceil(w / P) * Math.ceil(h / P);
    if (patches > MAX) {
      let r = Math.sqrt((P * P * MAX) / (w * h));
      r *= Math.min(Math.floor((w * r) / P) / ((w * r) / P), Math.floor((h * r) / P) / ((h * r) / P));
      patches = Math.ceil(Math.floor(w * r) / P) * Math.ceil(Math.floor(h * r) / P);
    }
    return Math.ceil(Math.min(patches, MAX) * fam.multiplier);
  }
  if (detail === 'low') return fam.base;
  if (w > 2048 || h > 2048) {
    const s = 2048 / Math.max(w, h);
    w *= s;
    h *= s;
  }
  const shortest = Math.min(w, h);
  if (shortest > 768) {
    const s = 768 / shortest;
    w *= s;
    h *= s;
  }
  // Guard against float noise (e.g. 767.9999) before ceil.
  const tiles = Math.ceil(Math.round(w * 1000) / 1000 / 512) * Math.ceil(Math.round(h * 1000) / 1000 / 512);
  return fam.base + fam.tile * tiles;
}

/** Bytes decoded from the head of a data URL (at most 64 KiB), or undefined if it is not base64 image data. */
function dataUrlHead(url: string): Buffer | undefined {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0 || comma > 200) return undefined;
  if (!url.slice(0, comma).endsWith(';base64')) return undefined;
  const maxChars = 87_384; // 64 KiB of bytes, a multiple of 4 chars
  const b64 = url.slice(comma + 1, comma + 1 + maxChars);
  return Buffer.from(b64.slice(0, b64.length - (b64.length % 4)), 'base64');
}

/** Width/height of a PNG, GIF, WebP or JPEG `data:` URL (header parsing only), or undefined. */
export function imageSizeFromDataUrl(url: string): { width: number; height: number } | undefined {
  const b = dataUrlHead(url);
  if (b === undefined || b.length < 12) return undefined;
  // PNG: signature + IHDR
  if (b.length >= 24 && b[0] === 0x89 && b.toString('latin1', 1, 4) === 'PNG') {
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  // GIF
  if (b.toString('latin1', 0, 3) === 'GIF') return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  // WebP
  if (b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    const fourcc = b.toString('latin1', 12, 16);
    if (fourcc === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    if (fourcc === 'VP8L') {
      const b1 = b[22] ?? 0;
      const b2 = b[23] ?? 0;
      const b3 = b[24] ?? 0;
      const b0 = b[21] ?? 0;
      return {
        width: 1 + (((b1 & 0x3f) << 8) | b0),
        height: 1 + (((b3 & 0x0f) << 10) | (b2 << 2) | ((b1 & 0xc0) >> 6)),
      };
    }
    if (fourcc === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    return undefined;
  }
  // JPEG: walk segments to the first SOFn
  if (b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1] ?? 0;
      if (marker === 0xff) {
        i++;
        continue;
      }
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
      i += 2 + b.readUInt16BE(i + 2);
    }
  }
  return undefined;
}
