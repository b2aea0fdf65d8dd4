import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginError } from '../../../lib/errors';
import {
  CATALOG,
  costOf,
  costOfPico,
  lookupModel,
  picoToUsd,
  resolvePrices,
  type Prices,
} from '../../../lib/pricing';

const near = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('lookup: exact, snapshot suffixes, provider prefixes, case-insensitive', () => {
  const k = (m: string) => lookupModel(m)?.key;
  assert.equal(k('gpt-4o'), 'gpt-4o');
  assert.equal(k('gpt-4o-2024-08-06'), 'gpt-4o');
  assert.equal(k('GPT-4o-Mini-2024-07-18'), 'gpt-4o-mini');
  assert.equal(k('openai/gpt-4o'), 'gpt-4o');
  assert.equal(k('azure/gpt-4.1-mini-2025-04-14'), 'gpt-4.1-mini');
  assert.equal(k('gpt-4-0613'), 'gpt-4');
  assert.equal(k('gpt-4-turbo-2024-04-09'), 'gpt-4-turbo');
  assert.equal(k('gpt-3.5-turbo-0125'), 'gpt-3.5-turbo');
  assert.equal(k('o3-mini-2025-01-31'), 'o3-mini');
  assert.equal(k('claude-3-5-sonnet-20241022'), 'claude-3-5-sonnet');
  assert.equal(k('claude-3-5-sonnet-latest'), 'claude-3-5-sonnet');
  assert.equal(k('anthropic/claude-sonnet-4-20250514'), 'claude-sonnet-4');
  assert.equal(k('bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0'), 'claude-3-7-sonnet');
  assert.equal(k('claude-3-5-sonnet@20240620'), 'claude-3-5-sonnet');
  assert.equal(k('models/gemini-2.0-flash-001'), 'gemini-2.0-flash');
  assert.equal(k('gemini-1.5-pro-002'), 'gemini-1.5-pro');
  assert.equal(k('gemini-2.5-flash-preview-05-20'), 'gemini-2.5-flash');
  assert.equal(k('mistral-large-latest'), 'mistral-large');
  assert.equal(k('mistral-large-2411'), 'mistral-large');
  assert.equal(k('groq/llama-3.3-70b-versatile'), 'llama-3.3-70b-versatile');
  assert.equal(k('text-embedding-3-small'), 'text-embedding-3-small');
});

test('lookup: differently priced variants never fall back to their base model', () => {
  for (const m of [
    'gpt-4o-realtime-preview',
    'o3-deep-research',
    'gpt-4o-audio-preview-2024-12-17',
    'my-gpt-4o',
    'gpt-4o-foo',
    'llama-3',
  ]) {
    assert.equal(lookupModel(m), undefined, m);
  }
  assert.equal(lookupModel('o1-pro-2025-03-19')?.key, 'o1-pro');
  assert.equal(lookupModel('gpt-5-pro')?.prices.output, 120);
});

test('catalog sanity: every entry has non-negative prices, cached ≤ input', () => {
  assert.ok(Object.keys(CATALOG).length >= 40);
  for (const [name, p] of Object.entries(CATALOG)) {
    assert.ok(p.input >= 0 && p.output >= 0, name);
    if (p.cached_input !== undefined) assert.ok(p.cached_input <= p.input, name);
    assert.equal(name, name.toLowerCase());
  }
});

test('costOf: cached tokens are a subset of prompt tokens (not double charged)', () => {
  const p: Prices = { input: 2.5, cached_input: 1.25, output: 10 };
  const c = costOf({ prompt_tokens: 1000, completion_tokens: 500, cached_tokens: 400 }, p);
  near(c.input, (600 * 2.5) / 1e6);
  near(c.cached_input, (400 * 1.25) / 1e6);
  near(c.output, (500 * 10) / 1e6);
  near(c.total, 0.0015 + 0.0005 + 0.005);
  assert.equal(c.total_nanousd, 7_000_000);
  // cached > prompt is clamped
  const clamp = costOf({ prompt_tokens: 10, completion_tokens: 0, cached_tokens: 50 }, p);
  near(clamp.cached_input, (10 * 1.25) / 1e6);
  assert.equal(clamp.input, 0);
});

test('costOf: reasoning tokens are part of completion tokens (billed once at output)', () => {
  const p: Prices = { input: 1.1, output: 4.4 };
  const a = costOf({ prompt_tokens: 100, completion_tokens: 1000, reasoning_tokens: 800 }, p);
  const b = costOf({ prompt_tokens: 100, completion_tokens: 1000 }, p);
  assert.deepEqual(a, b);
  near(a.output, (1000 * 4.4) / 1e6);
});

test('costOf: cached price defaults to input; cache writes and audio billed at their own prices', () => {
  const noCache = costOf(
    { prompt_tokens: 100, completion_tokens: 0, cached_tokens: 40 },
    { input: 3, output: 15 },
  );
  near(noCache.input + noCache.cached_input, (100 * 3) / 1e6);
  const anth: Prices = { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 };
  const c = costOf(
    { prompt_tokens: 1000, completion_tokens: 10, cached_tokens: 500, cache_write_tokens: 300 },
    anth,
  );
  near(c.input, (200 * 3 + 300 * 3.75) / 1e6);
  near(c.cached_input, (500 * 0.3) / 1e6);
  const audio = costOf(
    { prompt_tokens: 100, completion_tokens: 50, audio_prompt_tokens: 60, audio_completion_tokens: 20 },
    { input: 2.5, output: 10, audio_input: 40, audio_output: 80 },
  );
  near(audio.input, (40 * 2.5 + 60 * 40) / 1e6);
  near(audio.output, (30 * 10 + 20 * 80) / 1e6);
});

test('costOf: exact integer arithmetic, no float drift (1e-9 USD or better)', () => {
  // 0.1 + 0.2 style prices accumulated over many requests must sum exactly.
  const p: Prices = { input: 0.1, cached_input: 0.025, output: 0.2 };
  let pico = 0n;
  for (let i = 0; i < 100_000; i++)
    pico += costOfPico({ prompt_tokens: 7, completion_tokens: 3, cached_tokens: 2 }, p).total;
  // exact: per request 5*0.1 + 2*0.025 + 3*0.2 = 1.15 USD per 1M → 1.15e-6 USD; × 1e5 = 0.115 USD
  assert.equal(pico, 115_000_000_000n);
  assert.equal(picoToUsd(pico), 0.115);
  // large totals keep precision
  const big = costOf(
    { prompt_tokens: 2_000_000_000, completion_tokens: 1_000_000_003 },
    { input: 15, output: 75 },
  );
  near(big.total, 30_000 + 75_000.000225, 1e-9);
  assert.equal(big.total_nanousd, 105_000_000_225_000);
  // sub-nano totals round up for counters
  assert.equal(
    costOf({ prompt_tokens: 1, completion_tokens: 0 }, { input: 0.0001, output: 0 }).total_nanousd,
    1,
  );
  // garbage token counts are zero
  assert.equal(costOf({ prompt_tokens: NaN, completion_tokens: -5 }, p).total, 0);
});

test('resolvePrices: overrides (partial merge, snapshot match), catalog, fallbacks', () => {
  const overrides = { 'gpt-4o': { input: 2 }, 'my-local-llm': { input: 0.01, output: 0.02 } };
  const a = resolvePrices('gpt-4o-2024-11-20', overrides, 'reject');
  assert.equal(a.source, 'override');
  assert.equal(a.input, 2);
  assert.equal(a.output, 10); // from the catalog entry
  assert.equal(a.cached_input, 1.25);
  assert.equal(resolvePrices('My-Local-LLM', overrides, 'reject').output, 0.02);
  const cat = resolvePrices('claude-haiku-4-5-20251001', undefined, 'reject');
  assert.equal(cat.source, 'catalog');
  assert.equal(cat.input, 1);
  const e = assert.throws(
    () => resolvePrices('unknown-model', overrides, 'reject'),
    (err: unknown) => {
      assert.ok(err instanceof PluginError);
      assert.equal(err.code, 'MODEL_UNKNOWN');
      assert.equal(err.status, 400);
      return true;
    },
  );
  void e;
  assert.deepEqual(resolvePrices('unknown-model', undefined, 'zero'), {
    input: 0,
    output: 0,
    source: 'zero',
  });
  assert.deepEqual(resolvePrices('unknown-model', undefined, 'default', { input: 1, output: 2 }), {
    input: 1,
    output: 2,
    source: 'default',
  });
  assert.throws(
    () => resolvePrices('unknown-model', undefined, 'default'),
    (err: unknown) => err instanceof PluginError && err.code === 'CONFIG_INVALID',
  );
  assert.throws(
    () => resolvePrices('x', { x: { input: 1 } }, 'zero'),
    (err: unknown) => err instanceof PluginError && err.code === 'CONFIG_INVALID',
  );
  assert.throws(
    () => resolvePrices('x', { x: { input: -1, output: 1 } }, 'zero'),
    (err: unknown) => err instanceof PluginError && err.code === 'CONFIG_INVALID',
  );
});
