import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbedder, EmbeddingError } from '../../../lib/embeddings';
import { loadTransformers } from '../../../lib/embeddings/transformers';

test('transformers: a missing package gives a clear install message', () => {
  const missing = (): never => {
    throw Object.assign(new Error("Cannot find module '@xenova/transformers'"), { code: 'MODULE_NOT_FOUND' });
  };
  assert.throws(
    () => loadTransformers(missing),
    (err: unknown) => {
      assert.ok(err instanceof EmbeddingError);
      assert.match(err.message, /install @xenova\/transformers/);
      assert.match(err.message, /provider transformers/);
      return true;
    },
  );
});

test('transformers: needs model_dir and a name; embed fails clearly when the package is absent', async () => {
  assert.throws(() => createEmbedder({ provider: 'transformers', name: 'all-MiniLM-L6-v2' }), /model_dir/);
  const e = createEmbedder({ provider: 'transformers', name: 'm', options: { model_dir: '/nonexistent' } });
  let installed = true;
  try {
    require.resolve('@xenova/transformers');
  } catch {
    installed = false;
  }
  if (!installed) await assert.rejects(e.embed(['x']), /install @xenova\/transformers/);
  else await assert.rejects(e.embed(['x'])); // no model in /nonexistent and remote models are off
});
