/**
 * Typed errors shared by every plugin. Only `lib/kong/guard.ts` turns them into client responses.
 */

/** Stable, documented error codes. Clients and dashboards key on these; never rename one. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'BODY_NOT_JSON'
  | 'BODY_INVALID_UTF8'
  | 'BODY_TOO_LARGE'
  | 'BODY_TOO_DEEP'
  | 'BODY_SHAPE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL'
  | 'BUDGET_EXCEEDED'
  | 'BUDGET_UNAVAILABLE'
  | 'PII_BLOCKED'
  | 'PII_FAILURE'
  | 'PROMPT_BLOCKED'
  | 'GUARD_FAILURE'
  | 'MODEL_UNKNOWN'
  | 'NO_HEALTHY_TARGET'
  | 'ROUTER_FAILURE'
  | 'CACHE_UNAVAILABLE';

/**
 * An error with a stable `code`, the HTTP `status` a client should get, and whether `message` may be shown
 * to the client (`expose`). Unexposed errors are answered with a generic message.
 */
export class PluginError extends Error {
  /** Extra, client-safe fields merged into the JSON error body (never values from the prompt). */
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = 500,
    readonly expose = false,
    options: { cause?: unknown; details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginError';
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** A 4xx for bad client input; the message is shown to the client, so it must not echo the input. */
export function badRequest(code: ErrorCode, message: string, details?: Record<string, unknown>): PluginError {
  return new PluginError(code, message, code === 'BODY_TOO_LARGE' ? 413 : 400, true, { details });
}

/** True when `err` is a PluginError (also across duplicated module instances). */
export function isPluginError(err: unknown): err is PluginError {
  return err instanceof PluginError || (err instanceof Error && err.name === 'PluginError' && 'code' in err);
}
