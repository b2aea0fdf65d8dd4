/** docs/plugin-reference.md is generated from the plugin schemas and up to date. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, luaRows, pluginNames, render } from '../../scripts/gen-plugin-docs';
import { REPO_ROOT } from '../support/real-kong';

describe('deploy: plugin reference docs', () => {
  it('the committed docs/plugin-reference.md equals the generator output (npx tsx scripts/gen-plugin-docs.ts)', async () => {
    assert.equal(readFileSync(OUT, 'utf8'), await render());
  });

  it('covers every plugin and every Lua config field', () => {
    const text = readFileSync(OUT, 'utf8');
    for (const n of pluginNames()) assert.match(text, new RegExp(`^## ${n}$`, 'm'));
    const lua = readFileSync(join(REPO_ROOT, 'kong/plugins/llm-response-tap/schema.lua'), 'utf8');
    const declared = [...lua.matchAll(/\{\s*(\w+)\s*=\s*\{\s*type\s*=/g)]
      .map((m) => m[1])
      .filter((n) => n !== 'config');
    assert.deepEqual(
      luaRows(lua).map((r) => r.path),
      declared,
    );
  });
});
