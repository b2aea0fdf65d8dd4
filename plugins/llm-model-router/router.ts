/**
 * The routing decision, independent of the PDK: compile the config once per plugin instance, then for
 * each request (1) find the candidate targets from the rules, the alias or model name and the
 * default, (2) drop targets whose context window is too small and apply the budget downgrade,
 * (3) read the shared health/latency/usage snapshot, (4) walk the priority groups from 0 upwards,
 * probing half-open targets and picking among healthy ones with the balancer algorithm.
 */
import { createHash } from 'node:crypto';
import { PluginError, badRequest } from '../../lib/errors';
import { lookupModel } from '../../lib/pricing';
import { SmoothWrr, lowest, rendezvous, requestCost } from './balancers';
import {
  envRef,
  parseUpstream,
  type Algorithm,
  type ModelRouterConfig,
  type RuleConfig,
  type TargetConfig,
  type Upstream,
} from './schema';
import type { HealthSettings, RouterState, TargetView } from './state';

export interface CompiledTarget {
  name: string;
  /** Stable state id: name + hash of endpoint and model (same on every node with the same config). */
  id: string;
  weight: number;
  priority: number;
  model: string;
  provider: string;
  upstream: Upstream;
  /** upstream_url without query (for llm.route; never credentials). */
  url: string;
  inputCost: number;
  outputCost: number;
  cachedInputCost: number;
  maxContext?: number;
  auth?: { name: string; value: string };
  timeouts?: [number, number, number];
}

/** What the router knows about a request. */
export interface RequestFacts {
  model?: string;
  stream: boolean;
  promptTokens?: number;
  maxOutput?: number;
  headers: Record<string, string[]>;
  consumer?: { id?: string; username?: string; custom_id?: string };
  groups?: { id?: string; name?: string }[];
  route?: { id?: string; name?: string };
  /** Client IP (hash fallback), fetched only when needed. */
  ip?: () => Promise<string | undefined>;
  /** llm.accounting reports a budget below the downgrade threshold. */
  budgetLow: boolean;
}

export interface Decision {
  target: CompiledTarget;
  reason: string;
  algorithm: Algorithm;
}

export interface Needs {
  consumer: boolean;
  groups: boolean;
  route: boolean;
  tokens: boolean;
}

const DEFAULT_TIMEOUT = 60_000;

function idOf(t: TargetConfig): string {
  const h = createHash('sha256')
    .update(`${t.model.options.upstream_url}\u0000${t.model.name}`)
    .digest('hex')
    .slice(0, 10);
  return `${t.name}~${h}`;
}

/** Resolve `env:VAR` (optionally after a prefix such as "Bearer ") from the environment. */
export function resolveAuthValue(value: string, env: NodeJS.ProcessEnv): string | { missing: string } {
  const v = envRef(value);
  if (!v) return value;
  const got = env[v];
  if (got === undefined || got === '') return { missing: v };
  return value.slice(0, value.length - `env:${v}`.length) + got;
}

export class Router {
  readonly targets: CompiledTarget[];
  readonly byName = new Map<string, CompiledTarget>();
  readonly needs: Needs;
  /** Names a client may send as `model` (aliases, rule models, target models), for MODEL_UNKNOWN. */
  readonly allowedModels: string[];
  readonly problems: string[] = [];
  private readonly aliases = new Map<string, string[]>();
  private readonly byModel = new Map<string, string[]>();
  private readonly wrr = new SmoothWrr();
  readonly health: HealthSettings;

  constructor(
    private readonly c: ModelRouterConfig,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const b = c.balancer;
    this.health = {
      max_fails: b.max_fails,
      fail_window: b.fail_window,
      fail_timeout: b.fail_timeout,
      max_retry_after: b.max_retry_after,
      ewma_alpha: b.ewma_alpha,
      latency_ttl: b.latency_ttl,
      usage_window: b.usage_window,
    };
    this.targets = [];
    for (const t of c.targets ?? []) {
      const up = parseUpstream(t.model?.options?.upstream_url ?? '');
      if (typeof up === 'string' || !t.model) continue; // reported by checkConfig
      const o = t.model.options;
      const cat = lookupModel(t.model.name)?.prices;
      let auth: CompiledTarget['auth'];
      if (t.auth?.header_name && t.auth.header_value) {
        const v = resolveAuthValue(t.auth.header_value, env);
        if (typeof v === 'string') auth = { name: t.auth.header_name, value: v };
        else
          this.problems.push(
            `targets ${JSON.stringify(t.name)}: environment variable ${v.missing} for auth.header_value is not set`,
          );
      }
      const tc = t.connect_timeout ?? b.connect_timeout;
      const tw = t.write_timeout ?? b.write_timeout;
      const tr = t.read_timeout ?? b.read_timeout;
      const u = new URL(o.upstream_url);
      const ct: CompiledTarget = {
        name: t.name,
        id: idOf(t),
        weight: t.weight,
        priority: t.priority,
        model: t.model.name,
        provider: t.model.provider ?? 'openai',
        upstream: up,
        url: `${u.protocol}//${u.host}${up.basePath}`,
        inputCost: o.input_cost ?? cat?.input ?? 0,
        outputCost: o.output_cost ?? cat?.output ?? 0,
        cachedInputCost: o.cached_input_cost ?? cat?.cached_input ?? o.input_cost ?? cat?.input ?? 0,
        ...(o.max_context ? { maxContext: o.max_context } : {}),
        ...(auth ? { auth } : {}),
        ...(tc !== null || tw !== null || tr !== null
          ? {
              timeouts: [tc ?? DEFAULT_TIMEOUT, tw ?? DEFAULT_TIMEOUT, tr ?? DEFAULT_TIMEOUT] as [
                number,
                number,
                number,
              ],
            }
          : {}),
      };
      this.targets.push(ct);
      this.byName.set(ct.name, ct);
      const list = this.byModel.get(ct.model) ?? [];
      list.push(ct.name);
      this.byModel.set(ct.model, list);
    }
    for (const a of c.aliases ?? []) this.aliases.set(a.name, a.targets);
    const rules = c.rules ?? [];
    const algos: (Algorithm | null)[] = [b.algorithm, ...rules.map((r) => r.algorithm)];
    this.needs = {
      consumer:
        rules.some((r) => !!r.consumers?.length) ||
        (algos.includes('consistent-hashing') && b.hash_on === 'consumer'),
      groups: rules.some((r) => !!r.consumer_groups?.length),
      route: rules.some((r) => !!r.routes?.length),
      tokens:
        rules.some((r) => r.min_prompt_tokens !== null || r.max_prompt_tokens !== null) ||
        this.targets.some((t) => t.maxContext !== undefined) ||
        algos.includes('lowest-cost') ||
        (c.budget_downgrade.enabled && !c.budget_downgrade.targets?.length),
    };
    // consistent hashing on a header falls back to the consumer when the header is missing
    if (algos.includes('consistent-hashing')) this.needs.consumer = true;
    const allowed = new Set<string>([
      ...this.aliases.keys(),
      ...rules.flatMap((r) => r.models ?? []),
      ...this.byModel.keys(),
    ]);
    this.allowedModels = [...allowed].sort();
  }

  private ruleMatches(r: RuleConfig, f: RequestFacts): boolean {
    if (r.models?.length && !(f.model !== undefined && r.models.includes(f.model))) return false;
    if (r.stream !== null && r.stream !== f.stream) return false;
    if (r.consumers?.length) {
      const c = f.consumer;
      if (!c || !r.consumers.some((x) => x === c.id || x === c.username || x === c.custom_id)) return false;
    }
    if (r.consumer_groups?.length) {
      const gs = f.groups ?? [];
      if (!gs.some((g) => r.consumer_groups!.some((x) => x === g.name || x === g.id))) return false;
    }
    if (r.routes?.length) {
      const rt = f.route;
      if (!rt || !r.routes.some((x) => x === rt.name || x === rt.id)) return false;
    }
    for (const h of r.headers ?? []) {
      const vals = f.headers[h.name.toLowerCase()];
      if (!vals || vals.length === 0) return false;
      if (h.values?.length && !vals.some((v) => h.values!.includes(v))) return false;
    }
    if (
      r.min_prompt_tokens !== null &&
      !(f.promptTokens !== undefined && f.promptTokens >= r.min_prompt_tokens)
    )
      return false;
    if (
      r.max_prompt_tokens !== null &&
      !(f.promptTokens !== undefined && f.promptTokens <= r.max_prompt_tokens)
    )
      return false;
    return true;
  }

  /** Step 1: candidate names, the algorithm and the reason (throws MODEL_UNKNOWN). */
  candidates(f: RequestFacts): { names: string[]; algorithm: Algorithm; reason: string } {
    const c = this.c;
    for (const r of c.rules ?? []) {
      if (this.ruleMatches(r, f))
        return { names: r.targets, algorithm: r.algorithm ?? c.balancer.algorithm, reason: `rule:${r.name}` };
    }
    const m = f.model;
    if (m !== undefined) {
      const alias = this.aliases.get(m);
      if (alias) return { names: alias, algorithm: c.balancer.algorithm, reason: `alias:${m}` };
      const direct = this.byModel.get(m);
      if (direct) return { names: direct, algorithm: c.balancer.algorithm, reason: `model:${m}` };
      if (this.allowedModels.includes(m) || c.unknown_model === 'default') {
        return {
          names: c.default_targets?.length ? c.default_targets : this.targets.map((t) => t.name),
          algorithm: c.balancer.algorithm,
          reason: 'default',
        };
      }
      throw badRequest('MODEL_UNKNOWN', `unknown model; allowed: ${this.allowedModels.join(', ')}`, {
        allowed: this.allowedModels,
      });
    }
    return {
      names: c.default_targets?.length ? c.default_targets : this.targets.map((t) => t.name),
      algorithm: c.balancer.algorithm,
      reason: 'default',
    };
  }

  /** Estimated price of the request on a target (USD). */
  costOn(t: CompiledTarget, f: RequestFacts): number {
    return requestCost(
      f.promptTokens ?? 0,
      f.maxOutput ?? this.c.balancer.expected_output_tokens,
      t.inputCost,
      t.outputCost,
    );
  }

  /** The whole decision. `now` is only used for the Retry-After of NO_HEALTHY_TARGET. */
  async decide(f: RequestFacts, state: RouterState, now: number): Promise<Decision> {
    const step = this.candidates(f);
    let { names, algorithm } = step;
    let reason = step.reason;
    if (f.budgetLow && this.c.budget_downgrade.enabled) {
      if (this.c.budget_downgrade.targets?.length) names = this.c.budget_downgrade.targets;
      else algorithm = 'lowest-cost';
      reason += '+budget-downgrade';
    }
    let cands = names.map((n) => this.byName.get(n)).filter((t): t is CompiledTarget => t !== undefined);
    if (f.promptTokens !== undefined) {
      const fits = cands.filter((t) => t.maxContext === undefined || f.promptTokens! <= t.maxContext);
      if (cands.length && !fits.length)
        throw badRequest(
          'BODY_TOO_LARGE',
          'the prompt exceeds the context window of every target for this model',
        );
      cands = fits;
    }
    if (!cands.length)
      throw new PluginError('NO_HEALTHY_TARGET', 'no target is configured for this request', 503, true);
    const views = await state.snapshot(
      cands.map((t) => t.id),
      this.health,
    );
    const groups = [...new Set(cands.map((t) => t.priority))].sort((a, b) => a - b);
    let soonest = Infinity;
    for (const g of groups) {
      const inGroup = cands.filter((t) => t.priority === g);
      const healthy: CompiledTarget[] = [];
      for (const t of inGroup) {
        const v = views.get(t.id);
        if (v?.ejectedUntil !== undefined) {
          soonest = Math.min(soonest, v.ejectedUntil);
          continue;
        }
        if (v?.halfOpen) {
          if (await state.tryProbe(t.id, this.health))
            return { target: t, reason: `${reason}/probe`, algorithm };
          soonest = Math.min(soonest, now + 1000);
          continue;
        }
        healthy.push(t);
      }
      if (!healthy.length) continue;
      const picked = await this.pick(algorithm, healthy, views, f);
      const fallback = g !== groups[0] ? `/priority-${g}` : '';
      return { target: picked, reason: `${reason}/${algorithm}${fallback}`, algorithm };
    }
    const retry = Number.isFinite(soonest)
      ? Math.max(1, Math.ceil((soonest - now) / 1000))
      : this.health.fail_timeout;
    throw new PluginError(
      'NO_HEALTHY_TARGET',
      'every target for this request is currently unhealthy',
      503,
      true,
      {
        headers: { 'Retry-After': String(retry) },
      },
    );
  }

  /** Step 4: one target among healthy ones of a priority group. */
  async pick(
    algorithm: Algorithm,
    healthy: CompiledTarget[],
    views: Map<string, TargetView>,
    f: RequestFacts,
  ): Promise<CompiledTarget> {
    if (healthy.length === 1) return healthy[0]!;
    const b = this.c.balancer;
    switch (algorithm) {
      case 'consistent-hashing': {
        let key: string | undefined;
        if (b.hash_on === 'header') key = f.headers[b.hash_on_header.toLowerCase()]?.[0];
        key ??= f.consumer?.id ?? f.consumer?.username ?? undefined;
        if (key === undefined && f.ip) key = await f.ip();
        return key === undefined ? this.wrr.pick(healthy) : rendezvous(key, healthy);
      }
      case 'lowest-latency': {
        const kind = b.latency_strategy === 'auto' ? (f.stream ? 'ttft' : 'e2e') : b.latency_strategy;
        const other = kind === 'ttft' ? 'e2e' : 'ttft';
        const best = lowest(healthy, (t) => views.get(t.id)?.[kind] ?? views.get(t.id)?.[other], 0.1);
        return this.wrr.pick(best);
      }
      case 'lowest-usage':
        return this.wrr.pick(lowest(healthy, (t) => (views.get(t.id)?.usage ?? 0) / t.weight));
      case 'lowest-cost':
        return this.wrr.pick(lowest(healthy, (t) => this.costOn(t, f)));
      case 'round-robin':
      case 'priority':
      default:
        return this.wrr.pick(healthy);
    }
  }
}
