import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { parseChatRequest, type ChatRequest } from '../../../lib/openai';
import {
  countChatPrompt,
  countWithEncoding,
  encodeWithEncoding,
  encodingForModel,
  type EncodingName,
} from '../../../lib/tokens';

// Exports-only subpaths (the tsconfig's node10 resolution cannot type them): plain require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const o200k = require('js-tiktoken/ranks/o200k_base') as TiktokenBPE;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cl100k = require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE;

const ref: Record<EncodingName, Tiktoken> = {
  o200k_base: new Tiktoken(o200k),
  cl100k_base: new Tiktoken(cl100k),
};
/** tiktoken's encode_ordinary: special-token strings are plain text. */
const refEncode = (text: string, enc: EncodingName): number[] => ref[enc].encode(text, [], []);

const corpus = (
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/chat-requests/corpus.json'), 'utf8')) as unknown[]
).map(parseChatRequest);

function textsOf(req: ChatRequest): string[] {
  const out: string[] = [];
  for (const m of req.messages) {
    out.push(m.role);
    if (typeof m.name === 'string') out.push(m.name);
    if (typeof m.content === 'string') out.push(m.content);
    else if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'text') out.push(p.text);
  }
  return out;
}

/** Reference chat count with js-tiktoken, same formula (cookbook: 3/message, +1/name, +3 priming). */
function refChat(req: ChatRequest, enc: EncodingName): number {
  let n = 3;
  for (const m of req.messages) {
    n += 3 + refEncode(m.role, enc).length;
    if (typeof m.content === 'string') n += refEncode(m.content, enc).length;
    else if (Array.isArray(m.content))
      for (const p of m.content) if (p.type === 'text') n += refEncode(p.text, enc).length;
    if (typeof m.name === 'string') n += refEncode(m.name, enc).length + 1;
  }
  return n;
}

test('corpus has at least 200 requests', () => {
  assert.ok(corpus.length >= 200, `corpus has ${corpus.length} requests`);
});

test('every text: token ids and counts identical to js-tiktoken, both encodings (0 mismatches)', () => {
  let texts = 0;
  const mismatches: string[] = [];
  for (const [i, req] of corpus.entries()) {
    for (const t of textsOf(req)) {
      for (const enc of ['o200k_base', 'cl100k_base'] as const) {
        texts++;
        const expected = refEncode(t, enc);
        const count = countWithEncoding(t, enc);
        const ids = encodeWithEncoding(t, enc);
        if (
          count !== expected.length ||
          ids.length !== expected.length ||
          ids.some((id, k) => id !== expected[k])
        ) {
          mismatches.push(`request ${i} ${enc}: ${count} vs ${expected.length}`);
        }
      }
    }
  }
  assert.ok(texts > 2000, `only ${texts} texts compared`);
  assert.deepEqual(mismatches, []);
});

test('every request: countChatPrompt equals the js-tiktoken reference for its model', () => {
  const mismatches: string[] = [];
  for (const [i, req] of corpus.entries()) {
    const got = countChatPrompt(req);
    const enc = encodingForModel(req.model).encoding;
    assert.equal(got.encoding, enc);
    assert.equal(got.approximate, false);
    const want = refChat(req, enc);
    if (got.tokens !== want) mismatches.push(`request ${i}: ${got.tokens} vs ${want}`);
  }
  assert.deepEqual(mismatches, []);
});
