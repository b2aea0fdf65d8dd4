/**
 * Standalone mock LLM (OpenAI wire format) for docker compose and manual e2e runs.
 *
 *   npx tsx scripts/mock-llm.ts --port 8080 [--host 0.0.0.0] [--ttft-ms N] [--tokens-per-s N]
 *                               [--model NAME] [--name NAME] [--tls-key FILE --tls-cert FILE]
 *
 * Logs one line per request to stderr (method, path, status, duration, model, stream, fault — never
 * prompt text). Control endpoints: GET /__mock/health, GET /__mock/requests, POST /__mock/reset,
 * POST /__mock/fault, POST /__mock/options.
 */
import { readFileSync } from 'node:fs';
import { startMockLlm, type MockLlmOptions } from '../spec/support/mock-llm';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`mock-llm: ${msg}\n`);
  process.stderr.write(
    'usage: tsx scripts/mock-llm.ts [--port 8080] [--host 0.0.0.0] [--ttft-ms N] [--tokens-per-s N] [--model M] [--name N] [--tls-key F --tls-cert F]\n',
  );
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv: string[]): MockLlmOptions {
  const o: MockLlmOptions = { port: 8080, host: '0.0.0.0' };
  let key: string | undefined;
  let cert: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') usage();
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    const num = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) usage(`${flag}: not a non-negative number: ${v}`);
      return n;
    };
    switch (flag) {
      case '--port':
        o.port = num();
        break;
      case '--host':
        o.host = value();
        break;
      case '--ttft-ms':
        o.ttftMs = num();
        break;
      case '--tokens-per-s':
        o.tokensPerSecond = num();
        break;
      case '--model':
        o.model = value();
        break;
      case '--name':
        o.name = value();
        break;
      case '--tls-key':
        key = value();
        break;
      case '--tls-cert':
        cert = value();
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  if ((key === undefined) !== (cert === undefined)) usage('--tls-key and --tls-cert go together');
  if (key !== undefined && cert !== undefined)
    o.tls = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  return o;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  opts.onResponse = (r) => {
    const parts = [
      new Date().toISOString(),
      r.method,
      r.path,
      String(r.status),
      `${r.durationMs}ms`,
      r.model !== undefined ? `model=${r.model}` : '',
      r.stream ? 'stream' : '',
      r.fault !== undefined ? `fault=${r.fault}` : '',
      r.aborted ? 'aborted' : '',
    ];
    process.stderr.write(parts.filter(Boolean).join(' ') + '\n');
  };
  const mock = await startMockLlm(opts);
  process.stderr.write(
    `mock-llm listening on ${mock.url} (bind ${opts.host ?? '127.0.0.1'}, ttft ${opts.ttftMs ?? 0} ms, ${opts.tokensPerSecond ?? 0} tokens/s${opts.name ? `, name ${opts.name}` : ''})\n`,
  );
  let stopping = false;
  const shutdown = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`mock-llm: ${sig}, stopping\n`);
    mock.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`mock-llm: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
