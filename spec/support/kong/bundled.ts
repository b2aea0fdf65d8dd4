/**
 * Kong's bundled Lua plugins that the gateway emulates in TypeScript (test double).
 * key-auth: kong/plugins/key-auth/handler.lua (3.x); acl: kong/plugins/acl/handler.lua;
 * request-size-limiting: kong/plugins/request-size-limiting/handler.lua; rate-limiting (local policy):
 * kong/plugins/rate-limiting/handler.lua. Priorities from the handlers (key-auth 1250, request-size-limiting
 * 951, acl 950, rate-limiting 910).
 */
import type { Entity, Model } from './config';
import type { FieldDef } from './schema';
import { kongError, parseQuery, encodeQuery, type RequestState } from './pdk';

export interface BundledCtx {
  st: RequestState;
  model: Model;
  pluginId: string;
}

export interface BundledPlugin {
  name: string;
  priority: number;
  version: string;
  phases: string[];
  schema: { name: string; fields: Array<Record<string, FieldDef>> };
  access(ctx: BundledCtx, conf: Record<string, unknown>): void;
}

/**
 * 3.9's key-auth answers "Unauthorized" for an unknown key; older handlers said "Invalid authentication
 * credentials" (e.g. the Kong/kong snapshot 00239d0 of kong/plugins/key-auth/handler.lua). Kept in
 * one constant so it is easy to adjust after checking on a real 3.9.
 */
export const KEY_AUTH_INVALID_MESSAGE = 'Unauthorized';

const rec = (
  fields: Array<Record<string, FieldDef>>,
): { name: string; fields: Array<Record<string, FieldDef>> } => ({
  name: '',
  fields: [{ config: { type: 'record', fields } }],
});

function setConsumer(st: RequestState, consumer: Entity | undefined, credential: Entity | undefined): void {
  const h = st.upstream.headers;
  st.consumer = consumer ?? null;
  st.credential = credential ?? null;
  if (consumer?.id) h.set('X-Consumer-ID', consumer.id);
  else h.clear('X-Consumer-ID');
  if (consumer?.['custom_id']) h.set('X-Consumer-Custom-ID', String(consumer['custom_id']));
  else h.clear('X-Consumer-Custom-ID');
  if (consumer?.['username']) h.set('X-Consumer-Username', String(consumer['username']));
  else h.clear('X-Consumer-Username');
  if (credential?.id) h.set('X-Credential-Identifier', credential.id);
  else h.clear('X-Credential-Identifier');
  if (credential) h.clear('X-Anonymous-Consumer');
  else h.set('X-Anonymous-Consumer', 'true');
}

const keyAuth: BundledPlugin = {
  name: 'key-auth',
  priority: 1250,
  version: '3.9.1',
  phases: ['access'],
  schema: rec([
    { key_names: { type: 'array', elements: { type: 'string' }, default: ['apikey'], required: true } },
    { hide_credentials: { type: 'boolean', default: false, required: true } },
    { anonymous: { type: 'string' } },
    { key_in_header: { type: 'boolean', default: true, required: true } },
    { key_in_query: { type: 'boolean', default: true, required: true } },
    { key_in_body: { type: 'boolean', default: false, required: true } },
    { run_on_preflight: { type: 'boolean', default: true, required: true } },
    { realm: { type: 'string' } },
  ]),
  access({ st, model }, conf) {
    if (!conf['run_on_preflight'] && st.client.method === 'OPTIONS') return;
    if (conf['anonymous'] && st.credential) return;
    const fail = (status: number, message: string, headers?: Record<string, string>): void => {
      if (conf['anonymous']) {
        const anon = model.consumers.find(
          (c) => c.id === conf['anonymous'] || c['username'] === conf['anonymous'],
        );
        if (!anon) {
          st.exit = kongError(st, 500, 'An unexpected error occurred');
          st.exitSource = 'exit';
          return;
        }
        setConsumer(st, anon, undefined);
        return;
      }
      st.exit = kongError(st, status, message, headers);
      st.exitSource = 'exit';
    };
    const query = parseQuery(st.client.rawQuery);
    let body: Record<string, unknown> | undefined;
    let key: string | undefined;
    for (const name of conf['key_names'] as string[]) {
      let v: unknown;
      if (conf['key_in_header']) {
        const all = st.client.headers.getAll(name);
        v = all.length > 1 ? all : all[0];
      }
      if (v === undefined && conf['key_in_query']) v = query[name];
      if (v === undefined && conf['key_in_body']) {
        try {
          body ??= JSON.parse(st.client.body.toString('utf8')) as Record<string, unknown>;
        } catch {
          body = (parseQuery(st.client.body.toString('utf8')) as Record<string, unknown>) ?? {};
        }
        v = body?.[name];
      }
      if (typeof v === 'string') {
        key = v;
        if (conf['hide_credentials']) {
          delete query[name];
          st.upstream.rawQuery = encodeQuery(query);
          st.upstream.headers.clear(name);
        }
        break;
      } else if (Array.isArray(v)) {
        return fail(401, 'Duplicate API key found');
      }
    }
    if (!key) {
      return fail(401, 'No API key found in request', {
        'WWW-Authenticate': `Key realm="${(conf['realm'] as string | null) ?? 'kong'}"`,
      });
    }
    const cred = model.keyauthCredentials.find((k) => k['key'] === key);
    if (!cred) return fail(401, KEY_AUTH_INVALID_MESSAGE);
    const consumer = model.consumers.find((c) => c.id === (cred['consumer'] as { id: string }).id);
    setConsumer(st, consumer, cred);
  },
};

const acl: BundledPlugin = {
  name: 'acl',
  priority: 950,
  version: '3.9.1',
  phases: ['access'],
  schema: rec([
    { allow: { type: 'array', elements: { type: 'string' } } },
    { deny: { type: 'array', elements: { type: 'string' } } },
    { hide_groups_header: { type: 'boolean', default: false, required: true } },
    { always_use_authenticated_groups: { type: 'boolean', default: false, required: true } },
    { include_consumer_groups: { type: 'boolean', default: false, required: true } },
  ]),
  access({ st, model }, conf) {
    const deny = (status: number, msg?: string): void => {
      st.exit = kongError(st, status, msg);
      st.exitSource = 'exit';
    };
    if (!st.consumer) {
      if (st.credential) return deny(403, 'You cannot consume this service');
      return deny(401);
    }
    const groups = model.acls
      .filter((a) => (a['consumer'] as { id: string }).id === st.consumer?.['id'])
      .map((a) => String(a['group']));
    if (conf['include_consumer_groups'])
      groups.push(...((st.consumer['__groups'] as string[] | undefined) ?? []).filter(Boolean));
    const allow = conf['allow'] as string[] | null;
    const denyList = conf['deny'] as string[] | null;
    const blocked = allow
      ? !groups.some((g) => allow.includes(g))
      : denyList
        ? groups.some((g) => denyList.includes(g))
        : false;
    if (blocked) return deny(403, 'You cannot consume this service');
    if (!conf['hide_groups_header'] && groups.length)
      st.upstream.headers.set('X-Consumer-Groups', groups.join(', '));
  },
};

const UNITS: Record<string, number> = { megabytes: 1024 * 1024, kilobytes: 1024, bytes: 1 };
const requestSizeLimiting: BundledPlugin = {
  name: 'request-size-limiting',
  priority: 951,
  version: '3.9.1',
  phases: ['access'],
  schema: rec([
    { allowed_payload_size: { type: 'integer', default: 128, required: true } },
    {
      size_unit: {
        type: 'string',
        default: 'megabytes',
        required: true,
        one_of: ['megabytes', 'kilobytes', 'bytes'],
      },
    },
    { require_content_length: { type: 'boolean', default: false, required: true } },
  ]),
  access({ st }, conf) {
    const limit = (conf['allowed_payload_size'] as number) * (UNITS[conf['size_unit'] as string] ?? 1);
    const cl = st.client.headers.get('content-length');
    if (cl === undefined && conf['require_content_length']) {
      st.exit = kongError(st, 411, 'A valid Content-Length header is required');
      st.exitSource = 'exit';
      return;
    }
    const size = cl !== undefined ? Number(cl) : st.client.body.length;
    if (size > limit) {
      st.exit = kongError(st, 413, 'Request size limit exceeded');
      st.exitSource = 'exit';
    }
  },
};

const PERIODS: Array<[string, number]> = [
  ['second', 1],
  ['minute', 60],
  ['hour', 3600],
  ['day', 86400],
  ['month', 2592000],
  ['year', 31536000],
];
const rlCounters = new Map<string, number>();
const rateLimiting: BundledPlugin = {
  name: 'rate-limiting',
  priority: 910,
  version: '3.9.1',
  phases: ['access', 'log'],
  schema: rec([
    ...PERIODS.map(([p]) => ({ [p]: { type: 'number' } as FieldDef })),
    {
      limit_by: {
        type: 'string',
        default: 'consumer',
        one_of: ['consumer', 'credential', 'ip', 'service', 'header', 'path', 'consumer-group'],
      },
    },
    { header_name: { type: 'string' } },
    { path: { type: 'string' } },
    { policy: { type: 'string', default: 'local', one_of: ['local', 'cluster', 'redis'] } },
    { fault_tolerant: { type: 'boolean', default: true, required: true } },
    { hide_client_headers: { type: 'boolean', default: false, required: true } },
    { error_code: { type: 'number', default: 429 } },
    { error_message: { type: 'string', default: 'API rate limit exceeded' } },
    { sync_rate: { type: 'number', default: -1 } },
    {
      redis: {
        type: 'record',
        fields: [{ host: { type: 'string' } }, { port: { type: 'integer', default: 6379 } }],
      },
    },
  ]),
  access({ st, pluginId }, conf) {
    const by = conf['limit_by'] as string;
    let ident = st.client.ip;
    if (by === 'consumer' && st.consumer) ident = st.consumer.id as string;
    else if (by === 'credential' && st.credential) ident = st.credential.id as string;
    else if (by === 'service' && st.service) ident = st.service.id as string;
    else if (by === 'header')
      ident = st.client.headers.get(String(conf['header_name'] ?? '')) ?? st.client.ip;
    else if (by === 'path') ident = st.normPath;
    const nowS = Date.now() / 1000;
    let exceeded: { reset: number } | undefined;
    let minRemaining = Infinity;
    let minLimit = 0;
    let minReset = 0;
    const headers: Array<[string, string]> = [];
    for (const [p, len] of PERIODS) {
      const limit = conf[p] as number | null;
      if (limit === null || limit === undefined) continue;
      const start = Math.floor(nowS / len) * len;
      const key = `${pluginId}|${ident}|${p}|${start}`;
      const used = (rlCounters.get(key) ?? 0) + 1;
      const remaining = Math.max(0, limit - used + 1) - 1;
      const reset = Math.ceil(start + len - nowS);
      if (used > limit) exceeded = { reset };
      else rlCounters.set(key, used);
      const cap = p.charAt(0).toUpperCase() + p.slice(1);
      headers.push(
        [`X-RateLimit-Limit-${cap}`, String(limit)],
        [`X-RateLimit-Remaining-${cap}`, String(Math.max(0, remaining))],
      );
      if (remaining < minRemaining) {
        minRemaining = Math.max(0, remaining);
        minLimit = limit;
        minReset = reset;
      }
    }
    if (!conf['hide_client_headers'] && headers.length) {
      st.respHeaders.set('RateLimit-Limit', String(minLimit));
      st.respHeaders.set('RateLimit-Remaining', String(minRemaining));
      st.respHeaders.set('RateLimit-Reset', String(minReset));
      for (const [k, v] of headers) st.respHeaders.set(k, v);
    }
    if (exceeded) {
      const h: Record<string, string> = conf['hide_client_headers']
        ? {}
        : { 'Retry-After': String(exceeded.reset) };
      st.exit = kongError(st, (conf['error_code'] as number) ?? 429, conf['error_message'] as string, h);
      st.exitSource = 'exit';
    }
  },
};

export const BUNDLED: ReadonlyMap<string, BundledPlugin> = new Map(
  [keyAuth, acl, requestSizeLimiting, rateLimiting].map((p) => {
    p.schema.name = p.name;
    return [p.name, p];
  }),
);
