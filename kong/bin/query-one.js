'use strict';
// Filters `kong-js-pluginserver --dump-all-plugins` down to one plugin (Kong 3.9 registers only the
// first plugin a query command prints), or prints all of them when no name is given (Kong 3.4). stdout must carry only the
// JSON document: Kong parses it whole and refuses to start on anything else.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const name = process.argv[2];
const home = process.env.LLM_PLUGINS_HOME || '/opt/kong-llm-plugins';
const dir = process.env.LLM_PLUGINS_DIR || path.join(home, 'dist', 'plugins');
const bin = path.join(home, 'node_modules', 'kong-pdk', 'bin', 'kong-js-pluginserver');
if (name === '-h' || name === '--help') {
  process.stderr.write(
    'usage: llm-pluginserver-query [<plugin-name>]   (no name: every plugin, Kong 3.4 layout)\n',
  );
  process.exit(2);
}
let all;
try {
  const out = execFileSync(process.execPath, [bin, '--plugins-directory', dir, '--dump-all-plugins'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  all = JSON.parse(out);
} catch (err) {
  process.stderr.write(`llm-pluginserver-query: dump failed: ${err && err.message}\n`);
  process.exit(1);
}
if (!name) {
  // Kong 3.4 registers every plugin one query command prints (3.9 only the first): one entry serves all
  if (!Array.isArray(all) || all.length === 0) {
    process.stderr.write(`llm-pluginserver-query: no plugins found in ${dir}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(all) + '\n');
  process.exit(0);
}
const info = Array.isArray(all) ? all.find((p) => p && p.Name === name) : undefined;
if (!info) {
  process.stderr.write(`llm-pluginserver-query: plugin ${name} not found in ${dir}\n`);
  process.exit(1);
}
process.stdout.write(JSON.stringify([info]) + '\n');
