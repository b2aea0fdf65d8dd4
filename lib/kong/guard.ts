/**
 * The single error boundary of every phase. Kong fails open on any plugin-server error and the JS
 * server turns an exception into a normal return (kong-runtime.md §2.8), so nothing may escape a
 * phase: this wrapper decides, per plugin, whether a failure blocks (fail closed) or lets the request
 * through (fail open), and it is the only place that turns errors into client responses.
 */
import { KongFacade, type Phase } from './facade';
import type { KongPdk } from './pdk';
import { isPluginError, type ErrorCode } from '../errors';
import { errInfo, logOncePer, type Logger } from '../log';
import * as metrics from '../metrics';

export interface GuardOptions {
  /** Plugin name, for logs. */
  plugin: string;
  log: Logger;
  /** `true`: on an unexpected failure answer 5xx (security plugins); `false`: continue without the plugin. */
  failClosed: boolean;
  /** The code answered when failing closed (e.g. PII_FAILURE). */
  failureCode: ErrorCode;
  /** Status answered when failing closed. */
  failureStatus?: number;
  /** Problems found by `checkConfig` when the instance was created. */
  problems?: readonly string[];
}

const GENERIC = 'the request could not be processed';

/**
 * Run `body` for one phase with a fresh facade. Exposed `PluginError`s become client answers in
 * request phases; anything else is logged (without request data) and handled by the fail policy.
 * Never throws. Returns the facade so callers and tests can inspect what was called.
 */
export async function guard(
  pdk: KongPdk,
  phase: Phase,
  opts: GuardOptions,
  body: (k: KongFacade) => Promise<void>,
): Promise<KongFacade> {
  const k = new KongFacade(pdk, phase);
  const canAnswer = phase !== 'log';
  try {
    if (opts.problems && opts.problems.length) {
      // A broken config is never a silent pass-through, whatever the fail policy: the request gets
      // 500 CONFIG_INVALID, the metric counts it, and Kong's error log names plugin, route and problem.
      metrics.configInvalid.inc({ plugin: opts.plugin });
      // reported at most once a minute per plugin; the metric counts every request
      const report = logOncePer(`${opts.plugin}:config`, 60_000, () =>
        opts.log.error({ problems: opts.problems }, 'invalid plugin configuration'),
      );
      if (report) {
        const route = phase === 'log' ? undefined : await k.route().catch(() => undefined);
        await k.kongLogError(
          `[${opts.plugin}] invalid configuration on route ${route?.name ?? route?.id ?? '(none)'}: ${opts.problems.join('; ')} (code CONFIG_INVALID)`,
        );
      }
      if (canAnswer) await k.exitError(500, 'CONFIG_INVALID', 'the plugin configuration is invalid');
      return k;
    }
    await body(k);
    // the phase's effects in one round trip (lib/kong/facade.ts); a failure here is a phase failure
    if (!k.exited) await k.flush();
  } catch (err) {
    if (canAnswer && !k.exited && isPluginError(err) && err.expose) {
      try {
        await k.exitError(err.status, err.code, err.message, err.headers, err.details);
      } catch (exitErr) {
        opts.log.error({ err: errInfo(exitErr), phase }, 'failed to answer');
      }
      return k;
    }
    const info = errInfo(err);
    logOncePer(`${opts.plugin}:${phase}:${info.code ?? info.name}`, 10_000, () =>
      opts.log.error({ err: info, phase, failClosed: opts.failClosed }, 'phase failed'),
    );
    if (canAnswer && opts.failClosed && !k.exited) {
      try {
        await k.exitError(opts.failureStatus ?? 500, opts.failureCode, GENERIC);
      } catch (exitErr) {
        opts.log.error({ err: errInfo(exitErr), phase }, 'failed to answer');
      }
    } else if (!k.exited && k.pendingEffects) {
      // failing open: what the phase decided before it failed still applies, as when every
      // effect was its own call
      await k
        .flush()
        .catch((flushErr: unknown) =>
          opts.log.error({ err: errInfo(flushErr), phase }, 'failed to apply effects'),
        );
    }
  }
  return k;
}
