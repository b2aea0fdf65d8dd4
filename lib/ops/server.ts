/**
 * The operations API: a small authenticated HTTP server inside the plugin-server process — the
 * equivalent of an Admin API extension. JS plugins cannot add Admin API routes (only Lua plugins can,
 * with an api.lua), and an api.lua would need its own Redis access and key logic in Lua; here the
 * same code and store connections the plugins use answer.
 *
 * Started when `LLM_OPS_ADDR` (e.g. `127.0.0.1:9543`) is set; every request needs
 * `Authorization: Bearer $LLM_OPS_TOKEN` (the server refuses to start without a token of at least 16
 * characters). Bind it to loopback or an internal network only, like Kong's Admin API.
 *
 *   GET    /ops                                  routes and registered plugins
 *   GET    /ops/budgets?payer=consumer=alice     budgets of a payer partition (every policy, window)
 *   GET    /ops/budgets/partitions               partitions that have budget keys
 *   POST   /ops/budgets/reset  {"payer": "...", "policy"?: "..."}   delete counters + reservations
 *   GET    /ops/router/targets                   router target health
 *   POST   /ops/router/targets/:name/reset       readmit an ejected target now
 *   + routes registered by plugins (e.g. POST /ops/cache/purge)
 */
import http from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { errInfo, rootLogger } from '../log';
import { ACCOUNTING_PLUGIN, inspectBudgets, listPartitions, resetBudgets } from './budgets';
import { ROUTER_PLUGIN, resetTarget, targetHealth } from './router-health';
import {
  configsOf,
  matchPath,
  opsRoutes,
  registerOpsRoute,
  registeredPlugins,
  type OpsRequest,
} from './registry';

const MAX_BODY = 64 * 1024;

function payerOf(req: OpsRequest): string | undefined {
  const b = req.body as Record<string, unknown> | undefined;
  const v = req.query.get('payer') ?? (typeof b?.['payer'] === 'string' ? b['payer'] : undefined);
  return v && v.length <= 1024 ? v : undefined;
}

let builtinsRegistered = false;

/** The built-in routes (budgets, router health); idempotent. */
export function registerBuiltinRoutes(): void {
  if (builtinsRegistered) return;
  builtinsRegistered = true;
  registerOpsRoute({
    plugin: ACCOUNTING_PLUGIN,
    method: 'GET',
    path: '/ops/budgets',
    description: 'budgets of one payer partition: ?payer=consumer=alice',
    handler: async (req, configs) => {
      const payer = payerOf(req);
      if (!payer)
        return { status: 400, body: { message: 'payer is required (e.g. ?payer=consumer%3Dalice)' } };
      return { status: 200, body: { payer, budgets: await inspectBudgets(configs, payer) } };
    },
  });
  registerOpsRoute({
    plugin: ACCOUNTING_PLUGIN,
    method: 'GET',
    path: '/ops/budgets/partitions',
    description: 'payer partitions that have budget counters',
    handler: async (_req, configs) => ({ status: 200, body: { partitions: await listPartitions(configs) } }),
  });
  registerOpsRoute({
    plugin: ACCOUNTING_PLUGIN,
    method: 'POST',
    path: '/ops/budgets/reset',
    description:
      'delete the counters and reservations of a payer partition: {"payer": "...", "policy"?: "..."}',
    handler: async (req, configs) => {
      const payer = payerOf(req);
      if (!payer) return { status: 400, body: { message: 'payer is required' } };
      const b = req.body as Record<string, unknown> | undefined;
      const policy = req.query.get('policy') ?? (typeof b?.['policy'] === 'string' ? b['policy'] : undefined);
      return {
        status: 200,
        body: { payer, ...(policy ? { policy } : {}), ...(await resetBudgets(configs, payer, policy)) },
      };
    },
  });
  registerOpsRoute({
    plugin: ROUTER_PLUGIN,
    method: 'GET',
    path: '/ops/router/targets',
    description: 'health, ejection and latency of every router target',
    handler: async (_req, configs) => ({ status: 200, body: { targets: await targetHealth(configs) } }),
  });
  registerOpsRoute({
    plugin: ROUTER_PLUGIN,
    method: 'POST',
    path: '/ops/router/targets/:name/reset',
    description: 'readmit a target now (clear ejection, probation, failures)',
    handler: async (req, configs) => {
      const name = req.params['name'] ?? '';
      const known = configs.some(
        (c) =>
          Array.isArray(c['targets']) && (c['targets'] as { name?: string }[]).some((t) => t?.name === name),
      );
      if (!known) return { status: 404, body: { message: `no target named ${JSON.stringify(name)}` } };
      return { status: 200, body: { target: name, deleted: await resetTarget(configs, name) } };
    },
  });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time bearer check. */
export function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  return timingSafeEqual(digest(m[1].trim()), digest(token));
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request handler (exported for tests that mount it themselves). */
export function opsHandler(token: string): http.RequestListener {
  registerBuiltinRoutes();
  return (req, res) => {
    void (async () => {
      if (!authorized(req.headers.authorization, token)) {
        res.setHeader('www-authenticate', 'Bearer realm="llm-ops"');
        return send(res, 401, { message: 'Unauthorized' });
      }
      const url = new URL(req.url ?? '/', 'http://ops');
      const method = (req.method ?? 'GET').toUpperCase();
      if (method === 'GET' && (url.pathname === '/ops' || url.pathname === '/ops/')) {
        return send(res, 200, {
          plugins: registeredPlugins(),
          routes: opsRoutes().map((r) => ({
            method: r.method,
            path: r.path,
            plugin: r.plugin,
            description: r.description,
          })),
        });
      }
      let pathMatched = false;
      for (const r of opsRoutes()) {
        const params = matchPath(r.path, url.pathname);
        if (!params) continue;
        pathMatched = true;
        if (r.method !== method) continue;
        let body: unknown;
        const text = await readBody(req);
        if (text.trim()) {
          try {
            body = JSON.parse(text);
          } catch {
            return send(res, 400, { message: 'body is not JSON' });
          }
        }
        const out = await r.handler(
          { method, path: url.pathname, query: url.searchParams, body, params },
          configsOf(r.plugin),
        );
        return send(res, out.status, out.body);
      }
      return send(res, pathMatched ? 405 : 404, {
        message: pathMatched ? 'Method not allowed' : 'Not found',
      });
    })().catch((err: unknown) => {
      rootLogger().error({ err: errInfo(err) }, 'ops request failed');
      if (!res.headersSent) send(res, 500, { message: 'An unexpected error occurred' });
      else res.destroy();
    });
  };
}

let server: http.Server | undefined;

/** Parse `host:port` (`:port` or `port` bind every interface). */
export function parseAddr(addr: string): { host: string; port: number } | undefined {
  const i = addr.lastIndexOf(':');
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, '') : '0.0.0.0';
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  return Number.isInteger(port) && port >= 0 && port < 65536 ? { host, port } : undefined;
}

/** Start the operations endpoint once if `LLM_OPS_ADDR` is set (and a token is configured). */
export function ensureOpsEndpoint(env: NodeJS.ProcessEnv = process.env): http.Server | undefined {
  const addr = env['LLM_OPS_ADDR'];
  if (server || !addr) return server;
  const token = env['LLM_OPS_TOKEN'] ?? '';
  const where = parseAddr(addr);
  if (token.length < 16 || !where) {
    rootLogger().error(
      { addr },
      'operations API not started: LLM_OPS_TOKEN (>= 16 characters) and a valid LLM_OPS_ADDR are required',
    );
    server = http.createServer(); // remember the decision; never listens
    return undefined;
  }
  server = http.createServer(opsHandler(token));
  server.on('error', (err) => rootLogger().error({ err: errInfo(err) }, 'operations endpoint failed'));
  server.listen(where.port, where.host);
  server.unref();
  return server;
}
