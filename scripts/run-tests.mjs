#!/usr/bin/env node
// The one test command (`npm test`): builds, runs the Lua unit tests, the unit tier, then the
// real-Kong tier (every integration, e2e, deploy, resilience and runtime spec) against a real Kong.
//   npm test                 everything (needs Redis and a real Kong: see docs/testing.md)
//   npm test -- unit         only the tiers that need no Kong (`npm run test:unit`)
//   npm test -- kong         only the real-Kong tier
//   npm test -- kong34       the Kong 3.4 LTS smoke tier (KONG34_HOME, see docs/testing.md)
//   npm test -- all FILTER…  only spec files whose path contains one of the filters
// A real-Kong tier without a Kong fails at once with a message saying how to get one; it never skips.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'all';
const filters = process.argv.slice(3);
if (!['all', 'unit', 'kong', 'kong34'].includes(mode)) {
  console.error(`unknown mode ${mode} (all | unit | kong | kong34)`);
  process.exit(2);
}

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.spec.ts')) out.push(relative(root, p));
  }
  return out;
}

// A spec belongs to the real-Kong tier when it starts a Kong (directly or through its folder's helpers)
// or lives in a folder whose suites need running services beyond Redis.
const kongTier = (f) => {
  if (/(^|\/)(e2e|conformance|runtime|resilience|redis-topologies)\//.test(f)) return true;
  const src = readFileSync(join(root, f), 'utf8');
  return (
    /real-kong|startKong/.test(src) ||
    (f.startsWith('spec/deploy/') && /from '\.\/(helpers|kong-yml)'/.test(src))
  );
};

// Kong 3.4 LTS smoke tier: every plugin's main path, streaming and fail-closed (issue #21).
const KONG34_SMOKE = [
  'spec/plugins/llm-prompt-guard/10-integration.spec.ts',
  'spec/plugins/llm-pii-redaction/10-integration.spec.ts',
  'spec/plugins/llm-token-accounting/10-integration.spec.ts',
  'spec/plugins/llm-semantic-cache/10-integration.spec.ts',
  'spec/plugins/llm-model-router/10-integration.spec.ts',
  'spec/e2e/',
  'spec/resilience/25-fail-closed.spec.ts',
  'spec/runtime/30-kong-lines.spec.ts',
  'spec/runtime/40-round-trips.spec.ts',
];

const all = walk(join(root, 'spec')).sort();
let unitFiles = all.filter((f) => !kongTier(f));
let kongFiles = all.filter(kongTier);
let kong34Files = all.filter((f) => KONG34_SMOKE.some((p) => f.startsWith(p)));
if (filters.length) {
  const keep = (f) => filters.some((x) => f.includes(x));
  unitFiles = unitFiles.filter(keep);
  kongFiles = kongFiles.filter(keep);
  kong34Files = kong34Files.filter(keep);
}

function kongAvailable(line) {
  if (process.env.KONG_PROXY_URL && process.env.KONG_ADMIN_URL) return true;
  if (line === '3.4')
    return !!process.env.KONG34_HOME && existsSync(join(process.env.KONG34_HOME, 'bin', 'kong-env'));
  const r = spawnSync(process.env.KONG_BIN ?? 'kong', ['version'], { encoding: 'utf8' });
  return r.status === 0;
}

const NO_KONG = `
No real Kong to run the real-Kong tier against. The integration, e2e, deploy, resilience and runtime
suites run on a real Kong (never on an emulator, never skipped):
  - Kong OSS 3.9 with \`kong\` on PATH (Kong's package; in this project's environment
    \`bash ../shared/kong/setup.sh\`), or KONG_BIN=/path/to/kong;
  - or the official image with this build mounted: \`docker compose -f spec/kong-compose.yml up -d\`
    then KONG_PROXY_URL=http://127.0.0.1:8000 KONG_ADMIN_URL=http://127.0.0.1:8001 (docs/testing.md);
  - Kong 3.4 LTS tier: KONG34_HOME=<unpacked Kong 3.4 with bin/kong-env>.
\`npm run test:unit\` needs no Kong.`;

function runNode(files, env = {}) {
  if (!files.length) return 0;
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
    { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } },
  );
  return r.status ?? 1;
}

if (mode !== 'unit' || !existsSync(join(root, 'dist'))) {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
}

let status = 0;
if ((mode === 'all' || mode === 'unit') && !filters.length && existsSync(join(root, 'scripts/test-lua.sh'))) {
  const lua = spawnSync('bash', [join(root, 'scripts/test-lua.sh')], { stdio: 'inherit', cwd: root });
  if (lua.status !== 0) status = lua.status ?? 1;
}
if (mode === 'all' || mode === 'unit') {
  console.log(`\n== unit tier: ${unitFiles.length} spec files`);
  status ||= runNode(unitFiles);
}
if (mode === 'all' || mode === 'kong') {
  console.log(
    `\n== real-Kong tier (Kong ${process.env.KONG_PROXY_URL ? 'at ' + process.env.KONG_PROXY_URL : '3.9'}): ${kongFiles.length} spec files`,
  );
  if (!kongAvailable('3.9')) {
    console.error(NO_KONG);
    process.exit(1);
  }
  status = runNode(kongFiles) || status;
}
if (mode === 'kong34' || (mode === 'all' && process.env.KONG34_HOME)) {
  console.log(`\n== Kong 3.4 LTS smoke tier: ${kong34Files.length} spec files`);
  if (!kongAvailable('3.4')) {
    console.error(NO_KONG);
    process.exit(1);
  }
  status = runNode(kong34Files, { KONG_TEST_VERSION: '3.4' }) || status;
}
process.exit(status);
