import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuiltinEmbedder, createEmbedder, dot, tokenize } from '../../../lib/embeddings';

const norm = (v: Float32Array): number => Math.sqrt(dot(v, v));

test('builtin: deterministic, L2-normalised, fixed dimensions', async () => {
  const e = createEmbedder({ provider: 'builtin' });
  assert.match(e.id, /^builtin:/);
  const [a, b] = await e.embed(['How do I reset my password?', 'How do I reset my password?']);
  assert.ok(a && b);
  assert.equal(a.length, e.dimensions);
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.ok(Math.abs(norm(a) - 1) < 1e-5);
  const again = new BuiltinEmbedder();
  const [c] = await again.embed(['How do I reset my password?']);
  assert.deepEqual(Array.from(c!), Array.from(a));
});

test('builtin: paraphrase is more similar than an unrelated question', async () => {
  const e = createEmbedder({ provider: 'builtin' });
  const [q, para, other] = await e.embed([
    'How can I reset my account password?',
    'What is the way to reset the password of my account?',
    'What is the boiling point of water at sea level?',
  ]);
  const sp = dot(q!, para!);
  const so = dot(q!, other!);
  assert.ok(sp > so + 0.2, `paraphrase ${sp} vs unrelated ${so}`);
});

test('builtin: empty, out-of-vocabulary and non-Latin input still give unit vectors', async () => {
  const e = createEmbedder({ provider: 'builtin' });
  for (const v of await e.embed(['', 'zzqxv fooBarBaz', '東京の天気は？', '!!!'])) {
    assert.ok(Math.abs(norm(v) - 1) < 1e-5);
    assert.ok(v.every((x) => Number.isFinite(x)));
  }
});

test('builtin: word order changes the vector (order block)', async () => {
  const e = createEmbedder({ provider: 'builtin' });
  const [a, b, c] = await e.embed(['dog bites man', 'man bites dog', 'dog bites man']);
  assert.ok(dot(a!, b!) < dot(a!, c!) - 0.01);
});

test('tokenize: contractions become "not", case folded', () => {
  assert.deepEqual(tokenize("Don't STOP, it's fine"), ['do', 'not', 'stop', 'it', 'fine']);
  assert.deepEqual(tokenize("won't"), ['will', 'not']);
});

test('builtin: the data file loads fast and is the shipped one', () => {
  const e = new BuiltinEmbedder();
  const s = e.warmup();
  assert.equal(s.words, 100_000);
  assert.ok(s.bytes < 12 * 1024 * 1024);
});
