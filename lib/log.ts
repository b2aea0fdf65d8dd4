/**
 * The one pino root logger. Writes JSON lines to **stderr**: Kong copies the plugin server's stdout and
 * stderr into its error log, but stdout is also the query channel (`--dump-all-plugins`) where a stray
 * line stops Kong from starting (kong-runtime.md §2.1), so nothing here ever touches stdout.
 * Nothing is logged at module load.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors wherever they appear: credentials and every prompt/response text field, so an
 * accidental `log.info({ body })` cannot leak prompt text or secrets.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.apikey',
  '*.apikey',
  '*.api_key',
  '*.password',
  '*.header_value',
  '*.secret',
  'messages',
  '*.messages',
  'prompt',
  '*.prompt',
  'content',
  '*.content',
  'input',
  '*.input',
  'text',
  '*.text',
  'body',
  '*.body',
];

let root: Logger | undefined;

/** The process-wide root logger (created on first use, never at import). */
export function rootLogger(): Logger {
  if (!root) {
    root = pino(
      {
        level: process.env.LLM_PLUGINS_LOG_LEVEL || 'info',
        base: { svc: 'kong-llm-plugins' },
        redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      },
      pino.destination({ fd: 2, sync: true }),
    );
  }
  return root;
}

/** Replace the root logger (tests capture output through this). */
export function setRootLogger(logger: Logger): void {
  root = logger;
}

/** A child logger for one plugin. Bind only fixed, safe fields (never request data at top level). */
export function pluginLogger(plugin: string): Logger {
  return rootLogger().child({ plugin });
}

const lastLogged = new Map<string, number>();

/**
 * Run `fn` at most once per `intervalMs` for `key` (per process): "Redis down" must be logged once per
 * interval, not once per request.
 */
export function logOncePer(key: string, intervalMs: number, fn: () => void, now = Date.now()): boolean {
  const last = lastLogged.get(key);
  if (last !== undefined && now - last < intervalMs) return false;
  lastLogged.set(key, now);
  fn();
  return true;
}

/**
 * A safe summary of an error for logs. Messages of the suite's own `PluginError`s and of system
 * errors (with an `E…` code such as ECONNREFUSED) are kept; other messages are dropped because
 * some quote their input (`JSON.parse` does), and input may be prompt text. The first stack frame
 * says where it happened instead.
 */
export function errInfo(err: unknown): { name: string; code?: string; message: string; at?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const safe =
      err.name === 'PluginError' ||
      (typeof code === 'string' && /^E[A-Z]+/.test(code)) ||
      /^ReplyError|Redis/.test(err.name);
    const at = err.stack
      ?.split('\n')
      .find((l) => l.trim().startsWith('at '))
      ?.trim();
    return {
      name: err.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: safe ? err.message : '[message omitted]',
      ...(at ? { at } : {}),
    };
  }
  return { name: 'NonError', message: '[omitted]' };
}
