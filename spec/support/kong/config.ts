/**
 * DB-less declarative config (`_format_version: "3.0"`) → an in-memory model.
 * Follows Kong's entity schemas (kong/db/schema/entities/{services,routes,consumers}.lua) for the
 * fields the emulator uses, and the declarative nesting rules (kong/db/declarative/*).
 */
import { createHash } from 'node:crypto';
import * as YAML from 'yaml';
import { flattenErrors, type SchemaErrors } from './schema';

export type Entity = Record<string, unknown> & { id: string };

export interface PluginEntity extends Entity {
  name: string;
  config: Record<string, unknown>;
  enabled: boolean;
  route: { id: string } | null;
  service: { id: string } | null;
  consumer: { id: string } | null;
  instance_name: string | null;
  protocols: string[];
  __seq__: number;
}

export interface Model {
  services: Entity[];
  routes: Entity[];
  consumers: Entity[];
  plugins: PluginEntity[];
  keyauthCredentials: Entity[];
  acls: Entity[];
  consumerGroups: Entity[];
  /** the document as given (for GET /config) */
  source: Record<string, unknown>;
}

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly fields: Record<string, unknown>,
    readonly flattened: Array<{
      entity_type: string;
      entity_name?: string;
      entity?: unknown;
      errors: Array<{ field?: string; type: string; message: string }>;
    }>,
  ) {
    super(message);
  }
  /** Kong's 400 body for POST /config (api/routes/config.lua, flatten_errors) */
  toBody(): Record<string, unknown> {
    return {
      code: 14,
      name: 'invalid declarative configuration',
      message: `declarative config is invalid: ${JSON.stringify(this.fields)}`,
      fields: this.fields,
      flattened_errors: this.flattened,
    };
  }
}

/** Deterministic ids for entities without one (Kong 3.x generates stable ids in DB-less). */
export function stableId(...parts: unknown[]): string {
  const h = createHash('sha1').update(JSON.stringify(parts)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

export function parseConfigText(cfg: string | object): Record<string, unknown> {
  if (typeof cfg !== 'string') return JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
  const t = cfg.trim();
  const v = (t.startsWith('{') ? JSON.parse(t) : YAML.parse(t)) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError('expected an object', { error: 'expected an object' }, []);
  return v as Record<string, unknown>;
}

export interface PluginResolver {
  /** apply schema defaults; undefined when the plugin is not enabled */
  build(
    name: string,
    conf: Record<string, unknown> | undefined,
  ): { config: Record<string, unknown>; errors?: SchemaErrors } | undefined;
}

function parseUrl(u: string): { protocol: string; host: string; port: number; path: string | null } {
  const url = new URL(u);
  const protocol = url.protocol.replace(':', '');
  return {
    protocol,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    path: url.pathname && url.pathname !== '' ? url.pathname : null,
  };
}

const now = (): number => Math.floor(Date.now() / 1000);

export function buildModel(
  doc: Record<string, unknown>,
  plugins: PluginResolver,
  nextSeq: () => number,
): Model {
  const fields: Record<string, unknown> = {};
  const flattened: ConfigError['flattened'] = [];
  const fail = (
    type: string,
    name: string | undefined,
    idx: string,
    errs: Record<string, unknown>,
    entity?: unknown,
  ): void => {
    const bucket = (fields[`${type}s`] ??= {}) as Record<string, unknown>;
    bucket[idx] = errs;
    flattened.push({
      entity_type: type,
      ...(name ? { entity_name: name } : {}),
      ...(entity ? { entity } : {}),
      errors: flattenErrors(errs).map((e) => ({ field: e.field, type: 'field', message: e.message })),
    });
  };

  if (
    doc['_format_version'] !== '3.0' &&
    doc['_format_version'] !== '2.1' &&
    doc['_format_version'] !== '1.1'
  ) {
    fields['_format_version'] =
      doc['_format_version'] === undefined ? 'required field missing' : 'value must be 3.0';
    flattened.push({
      entity_type: '_format_version',
      errors: [{ type: 'field', message: String(fields['_format_version']) }],
    });
  }

  const m: Model = {
    services: [],
    routes: [],
    consumers: [],
    plugins: [],
    keyauthCredentials: [],
    acls: [],
    consumerGroups: [],
    source: doc,
  };
  const pendingPlugins: Array<{
    raw: Record<string, unknown>;
    scope: { route?: string; service?: string; consumer?: string };
    idx: string;
  }> = [];
  const pendingRoutes: Array<{ raw: Record<string, unknown>; service?: string; idx: string }> = [];

  const arr = (v: unknown): Array<Record<string, unknown>> =>
    Array.isArray(v) ? (v as Array<Record<string, unknown>>) : [];

  arr(doc['services']).forEach((s, i) => {
    const errs: Record<string, unknown> = {};
    let base: { protocol: string; host: string; port: number; path: string | null } | undefined;
    if (typeof s['url'] === 'string') {
      try {
        base = parseUrl(s['url']);
      } catch {
        errs['url'] = 'invalid url';
      }
    } else if (typeof s['host'] === 'string') {
      const protocol = (s['protocol'] as string | undefined) ?? 'http';
      base = {
        protocol,
        host: s['host'],
        port: (s['port'] as number | undefined) ?? (protocol === 'https' ? 443 : 80),
        path: (s['path'] as string | undefined) ?? null,
      };
    } else errs['host'] = 'required field missing';
    const id = (s['id'] as string | undefined) ?? stableId('service', s['name'] ?? i);
    const svc: Entity = {
      id,
      name: s['name'] ?? null,
      protocol: base?.protocol ?? 'http',
      host: base?.host ?? null,
      port: base?.port ?? 80,
      path: base?.path ?? null,
      retries: s['retries'] ?? 5,
      connect_timeout: s['connect_timeout'] ?? 60000,
      write_timeout: s['write_timeout'] ?? 60000,
      read_timeout: s['read_timeout'] ?? 60000,
      tags: s['tags'] ?? null,
      client_certificate: null,
      tls_verify: s['tls_verify'] ?? null,
      tls_verify_depth: null,
      ca_certificates: null,
      enabled: s['enabled'] ?? true,
      created_at: now(),
      updated_at: now(),
    };
    if (base && !['http', 'https'].includes(base.protocol))
      errs['protocol'] = 'expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp, ws, wss';
    if (Object.keys(errs).length) fail('service', s['name'] as string | undefined, String(i), errs, s);
    m.services.push(svc);
    arr(s['routes']).forEach((r, j) => pendingRoutes.push({ raw: r, service: id, idx: `${i}.routes.${j}` }));
    arr(s['plugins']).forEach((p, j) =>
      pendingPlugins.push({ raw: p, scope: { service: id }, idx: `services.${i}.plugins.${j}` }),
    );
  });

  const findBy = (list: Entity[], ref: unknown, key = 'name'): Entity | undefined => {
    const r =
      ref && typeof ref === 'object'
        ? ((ref as Record<string, unknown>)['id'] ?? (ref as Record<string, unknown>)[key])
        : ref;
    return list.find((e) => e.id === r || e[key] === r);
  };

  arr(doc['routes']).forEach((r, i) => {
    const svc = r['service'] === undefined ? undefined : findBy(m.services, r['service']);
    if (r['service'] !== undefined && !svc)
      fail('route', r['name'] as string | undefined, String(i), { service: 'could not find service' }, r);
    pendingRoutes.push({ raw: r, ...(svc ? { service: svc.id } : {}), idx: `routes.${i}` });
  });

  for (const { raw: r, service, idx } of pendingRoutes) {
    const errs: Record<string, unknown> = {};
    const paths = r['paths'] as unknown;
    if (paths !== undefined && paths !== null && !Array.isArray(paths)) errs['paths'] = 'expected a set';
    if (Array.isArray(paths))
      paths.forEach((p, k) => {
        if (typeof p !== 'string' || (!p.startsWith('/') && !p.startsWith('~/')))
          (errs['paths'] ??= {} as Record<string, unknown>) &&
            ((errs['paths'] as Record<string, unknown>)[String(k + 1)] =
              'should start with: / (fixed path) or ~/ (regex path)');
        else if (p.startsWith('~'))
          try {
            new RegExp(p.slice(1));
          } catch {
            (errs['paths'] as Record<string, unknown> | undefined) ?? (errs['paths'] = {});
            (errs['paths'] as Record<string, unknown>)[String(k + 1)] = 'invalid regex';
          }
      });
    if (!r['paths'] && !r['hosts'] && !r['methods'] && !r['headers'])
      errs['@entity'] = [
        "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'",
      ];
    const route: Entity = {
      id: (r['id'] as string | undefined) ?? stableId('route', r['name'] ?? idx),
      name: r['name'] ?? null,
      protocols: r['protocols'] ?? ['http', 'https'],
      methods: r['methods'] ?? null,
      hosts: r['hosts'] ?? null,
      paths: r['paths'] ?? null,
      headers: r['headers'] ?? null,
      https_redirect_status_code: 426,
      regex_priority: r['regex_priority'] ?? 0,
      strip_path: r['strip_path'] ?? true,
      path_handling: r['path_handling'] ?? 'v0',
      preserve_host: r['preserve_host'] ?? false,
      request_buffering: r['request_buffering'] ?? true,
      response_buffering: r['response_buffering'] ?? true,
      tags: r['tags'] ?? null,
      service: service ? { id: service } : null,
      created_at: now(),
      updated_at: now(),
    };
    if (Object.keys(errs).length) fail('route', r['name'] as string | undefined, idx, errs, r);
    m.routes.push(route);
    arr(r['plugins']).forEach((p, j) =>
      pendingPlugins.push({ raw: p, scope: { route: route.id }, idx: `routes.${idx}.plugins.${j}` }),
    );
  }

  arr(doc['consumer_groups']).forEach((g, i) => {
    m.consumerGroups.push({
      id: (g['id'] as string | undefined) ?? stableId('consumer_group', g['name'] ?? i),
      name: g['name'] ?? null,
      created_at: now(),
    });
  });

  arr(doc['consumers']).forEach((c, i) => {
    if (!c['username'] && !c['custom_id'])
      fail(
        'consumer',
        undefined,
        String(i),
        { '@entity': ["at least one of these fields must be non-empty: 'custom_id', 'username'"] },
        c,
      );
    const consumer: Entity = {
      id: (c['id'] as string | undefined) ?? stableId('consumer', c['username'] ?? c['custom_id'] ?? i),
      username: c['username'] ?? null,
      custom_id: c['custom_id'] ?? null,
      tags: c['tags'] ?? null,
      created_at: now(),
      updated_at: now(),
    };
    m.consumers.push(consumer);
    arr(c['keyauth_credentials']).forEach((k, j) => {
      if (typeof k['key'] !== 'string')
        fail('keyauth_credential', undefined, `${i}.${j}`, { key: 'required field missing' }, k);
      m.keyauthCredentials.push({
        id: (k['id'] as string | undefined) ?? stableId('keyauth', k['key']),
        key: k['key'],
        consumer: { id: consumer.id },
        ttl: k['ttl'] ?? null,
        tags: k['tags'] ?? null,
        created_at: now(),
      });
    });
    arr(c['acls']).forEach((a) => {
      m.acls.push({
        id: (a['id'] as string | undefined) ?? stableId('acl', consumer.id, a['group']),
        group: a['group'],
        consumer: { id: consumer.id },
        created_at: now(),
      });
    });
    const groups = Array.isArray(c['groups']) ? (c['groups'] as unknown[]) : [];
    consumer['__groups'] = groups.map((g) =>
      typeof g === 'string' ? g : (g as Record<string, unknown>)['name'],
    );
    arr(c['plugins']).forEach((p, j) =>
      pendingPlugins.push({ raw: p, scope: { consumer: consumer.id }, idx: `consumers.${i}.plugins.${j}` }),
    );
  });
  arr(doc['keyauth_credentials']).forEach((k, i) => {
    const c = findBy(m.consumers, k['consumer'], 'username');
    if (!c) fail('keyauth_credential', undefined, String(i), { consumer: 'could not find consumer' }, k);
    else
      m.keyauthCredentials.push({
        id: (k['id'] as string | undefined) ?? stableId('keyauth', k['key']),
        key: k['key'],
        consumer: { id: c.id },
        ttl: null,
        created_at: now(),
      });
  });
  arr(doc['acls']).forEach((a, i) => {
    const c = findBy(m.consumers, a['consumer'], 'username');
    if (!c) fail('acl', undefined, String(i), { consumer: 'could not find consumer' }, a);
    else
      m.acls.push({
        id: stableId('acl', c.id, a['group']),
        group: a['group'],
        consumer: { id: c.id },
        created_at: now(),
      });
  });

  arr(doc['plugins']).forEach((p, i) => {
    const scope: { route?: string; service?: string; consumer?: string } = {};
    const errs: Record<string, unknown> = {};
    if (p['route'] !== undefined && p['route'] !== null) {
      const r = findBy(m.routes, p['route']);
      if (r) scope.route = r.id;
      else errs['route'] = 'could not find route';
    }
    if (p['service'] !== undefined && p['service'] !== null) {
      const s = findBy(m.services, p['service']);
      if (s) scope.service = s.id;
      else errs['service'] = 'could not find service';
    }
    if (p['consumer'] !== undefined && p['consumer'] !== null) {
      const c = findBy(m.consumers, p['consumer'], 'username');
      if (c) scope.consumer = c.id;
      else errs['consumer'] = 'could not find consumer';
    }
    if (Object.keys(errs).length) fail('plugin', p['name'] as string | undefined, String(i), errs, p);
    pendingPlugins.push({ raw: p, scope, idx: `plugins.${i}` });
  });

  for (const { raw: p, scope, idx } of pendingPlugins) {
    const name = p['name'];
    if (typeof name !== 'string') {
      fail('plugin', undefined, idx, { name: 'required field missing' }, p);
      continue;
    }
    const built = plugins.build(name, (p['config'] as Record<string, unknown> | undefined) ?? {});
    if (!built) {
      fail(
        'plugin',
        name,
        idx,
        { name: `plugin '${name}' not enabled; add it to the 'plugins' configuration property` },
        p,
      );
      continue;
    }
    if (built.errors) {
      fail('plugin', name, idx, built.errors, p);
      continue;
    }
    const route = scope.route ?? null;
    const service = scope.service ?? null;
    const consumer = scope.consumer ?? null;
    m.plugins.push({
      id:
        (p['id'] as string | undefined) ??
        stableId('plugin', name, route, service, consumer, p['instance_name'] ?? null),
      name,
      config: built.config,
      enabled: (p['enabled'] as boolean | undefined) ?? true,
      route: route ? { id: route } : null,
      service: service ? { id: service } : null,
      consumer: consumer ? { id: consumer } : null,
      instance_name: (p['instance_name'] as string | undefined) ?? null,
      protocols: (p['protocols'] as string[] | undefined) ?? ['grpc', 'grpcs', 'http', 'https'],
      tags: p['tags'] ?? null,
      created_at: now(),
      updated_at: now(),
      __seq__: nextSeq(),
    });
  }
  // uniqueness: one plugin per (name, route, service, consumer)
  const seen = new Set<string>();
  for (const p of m.plugins) {
    const k = `${p.name}|${p.route?.id}|${p.service?.id}|${p.consumer?.id}`;
    if (seen.has(k))
      fail('plugin', p.name, p.id, {
        '@entity': [`uniqueness violation: 'plugins' entity with the same scope for '${p.name}'`],
      });
    seen.add(k);
  }

  if (Object.keys(fields).length) throw new ConfigError('declarative config is invalid', fields, flattened);
  return m;
}
