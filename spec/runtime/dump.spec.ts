/**
 * The build output as Kong discovers it: `--dump-all-plugins` must print exactly one JSON document
 * (Kong parses stdout whole and refuses to start otherwise) listing every shipped plugin, and the
 * per-plugin query command of the shipped settings must print just that plugin.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIORITY } from '../../lib/kong/priorities';

const root = join(__dirname, '..', '..');
const pluginsDir = join(root, 'dist', 'plugins');
const server = join(root, 'node_modules', 'kong-pdk', 'bin', 'kong-js-pluginserver');

const shipped = readdirSync(join(root, 'plugins')).filter((p) =>
  existsSync(join(root, 'plugins', p, 'index.ts')),
);
const expectedPriority: Record<string, number> = {
  'llm-prompt-guard': PRIORITY.promptGuard,
  'llm-pii-redaction': PRIORITY.piiRedaction,
  'llm-token-accounting': PRIORITY.tokenAccounting,
  'llm-semantic-cache': PRIORITY.semanticCache,
  'llm-model-router': PRIORITY.modelRouter,
};

interface Info {
  Name: string;
  Version: string;
  Priority: number;
  Phases: string[];
  Schema: { name: string; fields: { config: { type: string; fields: unknown[] } }[] };
}

describe('runtime: plugin discovery', () => {
  it('prints exactly one JSON document listing every shipped plugin', () => {
    const out = execFileSync(
      process.execPath,
      [server, '--plugins-directory', pluginsDir, '--dump-all-plugins'],
      { encoding: 'utf8' },
    );
    const lines = out.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, 'stdout must hold one line: the JSON document');
    const infos = JSON.parse(lines[0]!) as Info[];
    assert.ok(Array.isArray(infos));
    assert.deepEqual(infos.map((i) => i.Name).sort(), [...shipped].sort());
    for (const info of infos) {
      assert.match(info.Version, /^\d+\.\d+\.\d+$/, `${info.Name} version`);
      assert.equal(info.Priority, expectedPriority[info.Name], `${info.Name} priority`);
      assert.ok(
        !info.Phases.includes('response'),
        `${info.Name} must not implement response (it buffers every response)`,
      );
      assert.equal(info.Schema.fields[0]?.config.type, 'record');
    }
  });

  it('keeps the access order of the suite (guard > pii > accounting > cache > router) below the API layer', () => {
    const order = [
      PRIORITY.promptGuard,
      PRIORITY.piiRedaction,
      PRIORITY.tokenAccounting,
      PRIORITY.semanticCache,
      PRIORITY.modelRouter,
    ];
    assert.deepEqual(
      [...order].sort((a, b) => b - a),
      order,
    );
    assert.ok(
      order.every((p) => p < 910 && p > 770),
      'below rate-limiting (910), above ai-proxy (770)',
    );
  });

  it('ships settings with one entry per plugin, one socket and one start command', () => {
    const conf = readFileSync(join(root, 'kong', 'pluginserver.conf'), 'utf8');
    const kv = new Map(
      conf
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim())
        .filter(Boolean)
        .map((l) => l.split('=').map((s) => s.trim()) as [string, string]),
    );
    const names = (kv.get('pluginserver_names') ?? '').split(',').map((s) => s.trim());
    assert.equal(names.length, shipped.length);
    const sockets = new Set(names.map((n) => kv.get(`pluginserver_${n}_socket`)));
    assert.equal(sockets.size, 1);
    assert.equal(names.filter((n) => kv.has(`pluginserver_${n}_start_cmd`)).length, 1);
    assert.ok(kv.has(`pluginserver_${names[0]}_start_cmd`), 'the start command sits on the first entry');
    const queried = names.map(
      (n) => /llm-pluginserver-query (\S+)$/.exec(kv.get(`pluginserver_${n}_query_cmd`) ?? '')?.[1],
    );
    assert.deepEqual([...queried].sort(), [...shipped].sort());
    for (const line of conf.split('\n'))
      assert.ok(!/start_cmd.*\s-v\b/.test(line), 'no verbose flag (it logs bodies)');
  });

  it('answers each per-plugin query with a one-element JSON array', () => {
    for (const name of shipped) {
      const out = execFileSync(join(root, 'kong', 'bin', 'llm-pluginserver-query'), [name], {
        encoding: 'utf8',
        env: { ...process.env, LLM_PLUGINS_HOME: root },
      });
      const infos = JSON.parse(out) as Info[];
      assert.equal(infos.length, 1);
      assert.equal(infos[0]!.Name, name);
    }
  });
});
