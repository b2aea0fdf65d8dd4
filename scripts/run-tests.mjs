#!/usr/bin/env node
// The one test command (`npm test`): builds, runs the Lua tests, then every spec with node's test
// runner. `npm test -- unit` runs only the tiers that need no running services.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'all';
const filters = process.argv.slice(3);

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.spec.ts')) out.push(relative(root, p));
  }
  return out;
}

const integration = (f) => /(^|\/)(e2e|conformance|runtime)\//.test(f) || /\/1\d-[^/]*\.spec\.ts$/.test(f);
let files = walk(join(root, 'spec')).sort();
if (mode === 'unit') files = files.filter((f) => !integration(f));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));

if (mode !== 'unit' || !existsSync(join(root, 'dist'))) {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
}
if (!filters.length && existsSync(join(root, 'scripts/test-lua.sh'))) {
  const lua = spawnSync('bash', [join(root, 'scripts/test-lua.sh')], { stdio: 'inherit', cwd: root });
  if (lua.status !== 0) process.exit(lua.status ?? 1);
}
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
