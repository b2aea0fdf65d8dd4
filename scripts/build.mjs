#!/usr/bin/env node
// Compiles plugins/ and lib/ to CommonJS in dist/ and checks that dist/plugins holds only plugin
// entries: kong-js-pluginserver require()s every entry of its plugins directory and crashes on a
// folder that does not resolve (kong-runtime.md §4.1).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const pluginsDir = join(dist, 'plugins');
const problems = [];
for (const entry of existsSync(pluginsDir) ? readdirSync(pluginsDir) : []) {
  const p = join(pluginsDir, entry);
  if (!statSync(p).isDirectory()) problems.push(`${entry}: not a plugin folder`);
  else if (!existsSync(join(p, 'index.js'))) {
    // A plugin still under construction (no index.ts yet) is not shipped.
    if (existsSync(join(root, 'plugins', entry)) && !existsSync(join(root, 'plugins', entry, 'index.ts'))) {
      console.error(`note: plugins/${entry} has no index.ts yet; left out of dist/plugins`);
      rmSync(p, { recursive: true, force: true });
    } else problems.push(`${entry}: no index.js`);
  }
}
if (problems.length) {
  console.error(`dist/plugins must contain only plugin folders:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.error(`built ${readdirSync(pluginsDir, { withFileTypes: true }).length} plugin(s) into dist/plugins`);
