/**
 * Operations on the cache for the deployment (admin endpoints, CLI): read or purge one entry by its
 * X-Cache-Key, purge a partition, purge everything. Each purge deletes the entries from the store and
 * writes a change to the stream so every node drops them from its ANN index at its next sync.
 * Takes the plugin config (defaults filled, e.g. with `withDefaults(Schema, userConfig)`).
 */
import { storeFor } from '../../lib/store/pool';
import type { Store } from '../../lib/store/types';
import { KEY_RE, partitionHash } from './key';
import {
  allEntriesPrefix,
  changeStream,
  entryStoreKey,
  parseEntry,
  partitionStorePrefix,
  type Entry,
} from './entries';
import type { SemanticCacheConfig } from './schema';

export interface OpsTarget {
  store: Store;
  prefix: string;
  streamMaxLen: number;
}

/** Where a config keeps its entries. */
export function opsTarget(c: Pick<SemanticCacheConfig, 'vectordb'>, store?: Store): OpsTarget {
  return {
    store: store ?? storeFor(c.vectordb.strategy, c.vectordb.redis),
    prefix: c.vectordb.redis?.key_prefix ?? 'llm',
    streamMaxLen: c.vectordb.stream_max_len,
  };
}

function checkKey(key: string): void {
  if (!KEY_RE.test(key)) throw new Error('not a cache key (expected the X-Cache-Key value)');
}

/** The entry behind an X-Cache-Key (without its vector), or undefined. */
export async function getEntry(t: OpsTarget, key: string): Promise<Omit<Entry, 'vec'> | undefined> {
  checkKey(key);
  const e = parseEntry(await t.store.get(entryStoreKey(t.prefix, key)));
  if (!e) return undefined;
  const { vec: _vec, ...rest } = e;
  void _vec;
  return rest;
}

/** Delete one entry; returns whether it existed. */
export async function purgeKey(t: OpsTarget, key: string): Promise<boolean> {
  checkKey(key);
  const n = await t.store.del(entryStoreKey(t.prefix, key));
  await t.store.streamAdd(changeStream(t.prefix), { op: 'del', key }, t.streamMaxLen);
  return n > 0;
}

async function delAll(store: Store, keys: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += 500) n += await store.del(...keys.slice(i, i + 500));
  return n;
}

/** Delete every entry of a partition (`consumer:<id>`, `consumer_group:<names>`, `route:<name>`, `global`). */
export async function purgePartition(t: OpsTarget, partition: string): Promise<number> {
  const phash = partitionHash(partition);
  let total = 0;
  for (;;) {
    const keys = await t.store.keys(partitionStorePrefix(t.prefix, phash), 10_000);
    if (!keys.length) break;
    total += await delAll(t.store, keys);
    if (keys.length < 10_000) break;
  }
  await t.store.streamAdd(changeStream(t.prefix), { op: 'delp', phash }, t.streamMaxLen);
  return total;
}

/** Delete every entry under this prefix. */
export async function purgeAll(t: OpsTarget): Promise<number> {
  let total = 0;
  for (;;) {
    const keys = await t.store.keys(allEntriesPrefix(t.prefix), 10_000);
    if (!keys.length) break;
    total += await delAll(t.store, keys);
    if (keys.length < 10_000) break;
  }
  await t.store.streamAdd(changeStream(t.prefix), { op: 'clear' }, t.streamMaxLen);
  return total;
}
