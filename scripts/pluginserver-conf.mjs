#!/usr/bin/env node
// Adds a plugin entry to kong/pluginserver.conf in the shipped "split" layout (same socket, query
// command only, no start command): `node scripts/pluginserver-conf.mjs add llm-prompt-guard`.
// A lock directory keeps concurrent edits from losing each other.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'kong', 'pluginserver.conf');
const [cmd, plugin] = process.argv.slice(2);
if (cmd !== 'add' || !plugin) {
  console.error('usage: pluginserver-conf.mjs add <plugin-name>');
  process.exit(2);
}
const lock = `${file}.lock`;
for (let i = 0; ; i++) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    if (i > 500) throw new Error('lock busy');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
try {
  const id = plugin.replace(/-/g, '_');
  let text = readFileSync(file, 'utf8');
  const m = /^pluginserver_names\s*=\s*(.*)$/m.exec(text);
  if (!m) throw new Error('no pluginserver_names line');
  const names = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.includes(id)) {
    names.push(id);
    text = text.replace(m[0], `pluginserver_names = ${names.join(',')}`);
    const socket = /_socket\s*=\s*(\S+)/.exec(text)?.[1] ?? '/usr/local/kong/llm-plugins.sock';
    text = `${text.trimEnd()}\n\npluginserver_${id}_socket = ${socket}\npluginserver_${id}_query_cmd = /usr/local/bin/llm-pluginserver-query ${plugin}\n`;
    writeFileSync(file, text);
  }
} finally {
  rmdirSync(lock);
}
