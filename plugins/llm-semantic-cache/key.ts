/**
 * Cache keys and partitions. Pure functions (unit-tested in spec/plugins/llm-semantic-cache/03-key.spec.ts).
 *
 * A request maps to:
 *   - a partition: who may share entries (`consumer:<id>`, `consumer_group:<names>`, `route:<name>`, `global`);
 *   - a context hash `ctx`: everything that must match EXACTLY for an answer to be reusable — route, requested
 *     model alias, every parameter that changes the answer (all body fields except messages, stream,
 *     stream_options, user, metadata, store, max_tokens, max_completion_tokens), the system/developer prompts,
 *     the conversation history before the compared window, and the shape of the window (roles, names,
 *     tool calls, non-text parts);
 *   - the compared text: the text of the last `message_countback` messages, embedded and verified;
 *   - the exact key: partition hash + hash(ctx, window text).
 * Semantic search only ever compares entries with the same partition AND ctx.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest } from '../../lib/openai';
import type { PartitionBy, SemanticCacheConfig } from './schema';

export interface Identity {
  consumer?: { id?: string; username?: string };
  groups?: string[];
  route?: { id?: string; name?: string };
}

export interface CacheKey {
  partition: string;
  /** sha256(partition), 16 hex: the store-key segment of the partition. */
  phash: string;
  /** Context hash (40 hex). */
  ctx: string;
  /** The partition of the ANN index: `phash/ctx`. */
  ip: string;
  /** The exact key, `phash-ekey` (what X-Cache-Key shows). */
  key: string;
  /** Text compared semantically (never logged). */
  text: string;
}

/** Body fields that do not change the answer (or are handled separately). */
export const NEUTRAL_FIELDS: ReadonlySet<string> = new Set([
  'messages',
  'model',
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'max_tokens',
  'max_completion_tokens',
]);

export const KEY_RE = /^[0-9a-f]{16}-[0-9a-f]{40}$/;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** JSON with sorted object keys (stable across clients that order fields differently). */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/** The partition string, or undefined when the identity it needs is missing (the request bypasses). */
export function partitionOf(by: PartitionBy, id: Identity): string | undefined {
  switch (by) {
    case 'global':
      return 'global';
    case 'route': {
      const r = id.route?.name || id.route?.id;
      return r ? `route:${r}` : undefined;
    }
    case 'consumer_group': {
      const g = (id.groups ?? []).filter(Boolean).sort();
      return g.length ? `consumer_group:${g.join(',')}` : undefined;
    }
    case 'consumer': {
      const c = id.consumer?.id || id.consumer?.username;
      return c ? `consumer:${c}` : undefined;
    }
  }
}

export function partitionHash(partition: string): string {
  return sha(`p:${partition}`).slice(0, 16);
}

function isSystem(m: ChatMessage): boolean {
  return m.role === 'system' || m.role === 'developer';
}

/** Plain text of a message (string content or the text parts). */
export function textOf(m: ChatMessage): string {
  const c = m.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  return c
    .map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** Everything of a window message except its text: role, name, tool calls, non-text parts. */
function shapeOf(m: ChatMessage): unknown {
  const { content, ...rest } = m;
  const parts = Array.isArray(content) ? content.filter((p) => p.type !== 'text') : [];
  return { ...rest, parts };
}

/** The messages that count, after the ignore_* options. */
export function countedMessages(
  req: ChatRequest,
  c: Pick<SemanticCacheConfig, 'ignore_system_prompts' | 'ignore_assistant_prompts' | 'ignore_tool_prompts'>,
): { system: ChatMessage[]; conversation: ChatMessage[] } {
  const system: ChatMessage[] = [];
  const conversation: ChatMessage[] = [];
  for (const m of req.messages) {
    if (isSystem(m)) {
      if (!c.ignore_system_prompts) system.push(m);
    } else if (m.role === 'assistant') {
      if (!c.ignore_assistant_prompts) conversation.push(m);
    } else if (m.role === 'tool' || m.role === 'function') {
      if (!c.ignore_tool_prompts) conversation.push(m);
    } else conversation.push(m);
  }
  return { system, conversation };
}

/** Parameters that change the answer, canonicalised. */
export function paramsOf(req: ChatRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) {
    if (NEUTRAL_FIELDS.has(k) || v === undefined || v === null) continue;
    out[k] = v;
  }
  return out;
}

/** Build the key of a chat request. `routeId` scopes entries to a route (name, else id). */
export function buildKey(
  req: ChatRequest,
  c: Pick<
    SemanticCacheConfig,
    'ignore_system_prompts' | 'ignore_assistant_prompts' | 'ignore_tool_prompts' | 'message_countback'
  >,
  partition: string,
  routeId: string,
): CacheKey {
  const { system, conversation } = countedMessages(req, c);
  const n = Math.max(1, Math.floor(c.message_countback));
  const window = conversation.slice(-n);
  const history = conversation.slice(0, conversation.length - window.length);
  const ctx = sha(
    canonical({
      v: 1,
      op: 'chat',
      route: routeId,
      model: req.model,
      params: paramsOf(req),
      system,
      history,
      window: window.map(shapeOf),
    }),
  ).slice(0, 40);
  const texts = window.map(textOf);
  const phash = partitionHash(partition);
  const ekey = sha(`${ctx}\n${JSON.stringify(texts)}`).slice(0, 40);
  return { partition, phash, ctx, ip: `${phash}/${ctx}`, key: `${phash}-${ekey}`, text: texts.join('\n') };
}

/** Request Cache-Control directives the cache honours. */
export interface CacheControl {
  noStore: boolean;
  noCache: boolean;
  maxAge?: number;
}

export function parseCacheControl(v: string | undefined): CacheControl {
  const out: CacheControl = { noStore: false, noCache: false };
  if (!v) return out;
  for (const raw of v.split(',')) {
    const d = raw.trim().toLowerCase();
    if (d === 'no-store') out.noStore = true;
    else if (d === 'no-cache') out.noCache = true;
    else {
      const m = /^(?:max-age|s-maxage)\s*=\s*"?(\d+)"?$/.exec(d);
      if (m) out.maxAge = Math.min(out.maxAge ?? Infinity, Number(m[1]));
    }
  }
  return out;
}
