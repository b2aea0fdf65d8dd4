import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbedder, dot, EmbeddingError } from '../../../lib/embeddings';
import { loadTransformers } from '../../../lib/embeddings/transformers';
import { HIDDEN, writeTinyModel } from '../../support/tiny-onnx';

let installed = true;
try {
  require.resolve('@xenova/transformers');
} catch {
  installed = false;
}
const skip = installed ? false : '@xenova/transformers is not installed (optional dependency)';

const root = mkdtempSync(join(tmpdir(), 'tx-embed-'));
after(() => rmSync(root, { recursive: true, force: true }));

// No test may reach the network: any fetch fails the test that triggered it.
const realFetch = globalThis.fetch;
let fetches = 0;
globalThis.fetch = (() => {
  fetches++;
  return Promise.reject(new Error('network access in a transformers test'));
}) as typeof fetch;
after(() => {
  globalThis.fetch = realFetch;
});

test('transformers: a missing package gives a clear install message', async () => {
  const missing = (): Promise<never> =>
    Promise.reject(
      Object.assign(new Error("Cannot find module '@xenova/transformers'"), { code: 'MODULE_NOT_FOUND' }),
    );
  await assert.rejects(loadTransformers(missing), (err: unknown) => {
    assert.ok(err instanceof EmbeddingError);
    assert.match(err.message, /install @xenova\/transformers/);
    assert.match(err.message, /provider transformers/);
    return true;
  });
});

test('transformers: needs model_dir and a name', () => {
  assert.throws(() => createEmbedder({ provider: 'transformers', name: 'all-MiniLM-L6-v2' }), /model_dir/);
  assert.throws(
    () => createEmbedder({ provider: 'transformers', options: { model_dir: root } }),
    /model name/,
  );
});

test('transformers: a missing model gives a clear error, offline', async () => {
  const e = createEmbedder({ provider: 'transformers', name: 'absent-model', options: { model_dir: root } });
  await assert.rejects(e.embed(['where is my model']), (err: unknown) => {
    assert.ok(err instanceof EmbeddingError);
    assert.match(err.message, /model not found/);
    assert.match(err.message, /absent-model[/\\]onnx[/\\]model\.onnx/);
    assert.match(err.message, /remote models are disabled/);
    assert.doesNotMatch(err.message, /where is my model/); // never the input text
    return true;
  });
  // A later call retries (the failed load is not cached) and still fails the same way.
  await assert.rejects(e.embed(['x']), /model not found/);
  assert.equal(fetches, 0);
});

test(
  'transformers: an incomplete model dir (no tokenizer) fails to load with remote models off',
  { skip },
  async () => {
    const m = writeTinyModel(root, 'no-tokenizer');
    rmSync(join(m.dir, 'tokenizer.json'));
    const e = createEmbedder({ provider: 'transformers', name: m.name, options: { model_dir: root } });
    await assert.rejects(e.embed(['hello']), (err: unknown) => {
      assert.ok(err instanceof EmbeddingError);
      assert.match(err.message, /failed to load/);
      return true;
    });
    assert.equal(fetches, 0);
  },
);

test(
  'transformers: embeds with a generated tiny ONNX model (dims, L2 norm, determinism)',
  { skip },
  async () => {
    const m = writeTinyModel(root, 'tiny-bert');
    assert.ok(m.onnxBytes > 1000 && m.onnxBytes < 100_000, `model size ${m.onnxBytes}`);
    const e = createEmbedder({ provider: 'transformers', name: m.name, options: { model_dir: root } });
    assert.equal(e.id, 'transformers:tiny-bert');
    assert.deepEqual(await e.embed([]), []);

    const sentences = [
      'How do I reset my password?',
      'how do i reset my password?', // lowercased by the tokenizer: same tokens
      'What is the weather in Paris today?',
      'What is the capital of France?',
      'write a python function', // shorter: exercises padding in a batch
    ];
    const t0 = performance.now();
    const vs = await e.embed(sentences);
    const loadAndFirst = performance.now() - t0;
    assert.equal(vs.length, sentences.length);
    assert.equal(e.dimensions, HIDDEN);
    for (const v of vs) {
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, HIDDEN);
      assert.ok(Math.abs(dot(v, v) - 1) < 1e-5, `norm² ${dot(v, v)}`);
      assert.ok(v.every(Number.isFinite));
    }
    const [a, aLower, weather, capital, short] = vs as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    assert.deepEqual(a, aLower);
    assert.ok(dot(a, weather) < 0.9999);
    assert.ok(dot(weather, capital) < 0.9999);
    assert.notDeepEqual(a, weather);

    // Deterministic: same vectors alone, in another batch order, and from a second embedder instance.
    const [shortAlone] = await e.embed(['write a python function']);
    assert.ok(shortAlone);
    for (let i = 0; i < HIDDEN; i++) assert.ok(Math.abs(shortAlone[i]! - short[i]!) < 1e-5);
    const again = await e.embed([sentences[3]!, sentences[0]!]);
    assert.deepEqual(again[0], capital);
    assert.deepEqual(again[1], a);
    const e2 = createEmbedder({ provider: 'transformers', name: m.name, options: { model_dir: root } });
    assert.deepEqual((await e2.embed([sentences[2]!]))[0], weather);

    const t1 = performance.now();
    const batch = Array.from(
      { length: 200 },
      (_, i) => `how do i change my email ${i % 7 === 0 ? 'today' : 'please'}`,
    );
    await e.embed(batch);
    const perSentence = (performance.now() - t1) / batch.length;
    // Speed is reported, not asserted: a loaded CI machine must not fail a test on timing.
    assert.equal(fetches, 0);
    process.stderr.write(
      `# tiny model: load+first batch ${loadAndFirst.toFixed(0)} ms, ${perSentence.toFixed(3)} ms/sentence\n`,
    );
  },
);

test(
  'transformers: falls back to onnx/model_quantized.onnx when model.onnx is absent',
  { skip },
  async () => {
    const full = writeTinyModel(root, 'full');
    const q = writeTinyModel(root, 'quantized-only', { quantized: true });
    rmSync(join(q.dir, 'onnx', 'model.onnx'));
    const ef = createEmbedder({ provider: 'transformers', name: full.name, options: { model_dir: root } });
    const eq = createEmbedder({ provider: 'transformers', name: q.name, options: { model_dir: root } });
    // Same weights under the other file name: same vectors.
    assert.deepEqual(await eq.embed(['refund my order']), await ef.embed(['refund my order']));
  },
);

test('transformers: two model dirs in one process each load their own model', { skip }, async () => {
  const r1 = mkdtempSync(join(root, 'a-'));
  const r2 = mkdtempSync(join(root, 'b-'));
  writeTinyModel(r1, 'same-name', { seed: 1 });
  writeTinyModel(r2, 'same-name', { seed: 2 });
  const e1 = createEmbedder({ provider: 'transformers', name: 'same-name', options: { model_dir: r1 } });
  const e2 = createEmbedder({ provider: 'transformers', name: 'same-name', options: { model_dir: r2 } });
  const [[v1], [v2]] = await Promise.all([e1.embed(['reset my password']), e2.embed(['reset my password'])]);
  assert.ok(v1 && v2);
  assert.notDeepEqual(v1, v2);
});
