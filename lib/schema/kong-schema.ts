/**
 * Kong's schema DSL as external plugins declare it (`Schema` = the config record's fields), and
 * helpers that derive defaults from it so a plugin declares every default exactly once.
 */

/** Kong field types used by the suite. */
export type KongFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'set' | 'map' | 'record';

/** One Kong schema field definition. */
export interface KongFieldDef {
  type: KongFieldType;
  description?: string;
  required?: boolean;
  default?: unknown;
  one_of?: readonly (string | number)[];
  between?: readonly [number, number];
  gt?: number;
  len_min?: number;
  len_max?: number;
  /** Secrets: allow `{vault://...}` references (Kong resolves them before the plugin sees config). */
  referenceable?: boolean;
  encrypted?: boolean;
  elements?: KongFieldDef;
  keys?: KongFieldDef;
  values?: KongFieldDef;
  fields?: KongField[];
}

/** A field entry: `{ name: definition }` (Kong's array-of-single-key-maps form). */
export type KongField = Record<string, KongFieldDef>;

function defaultOf(def: KongFieldDef): unknown {
  if (def.type === 'record' && def.fields) {
    // Kong fills a nested record with its fields' defaults when the user leaves it out.
    if (def.default !== undefined) return structuredClone(def.default);
    return defaultsOf(def.fields);
  }
  return def.default === undefined ? null : structuredClone(def.default);
}

/** The config Kong would send for an empty user config: every field present, defaults or null. */
export function defaultsOf(fields: readonly KongField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    for (const [name, def] of Object.entries(f)) out[name] = defaultOf(def);
  }
  return out;
}

/**
 * A partial user config with Kong's defaults filled in: the same normaliser Kong's own configs go
 * through (`normalizeConfig`), so tests and tools see exactly what a plugin instance sees.
 */
export function withDefaults<T>(fields: readonly KongField[], partial: Record<string, unknown> = {}): T {
  return normalizeConfig<T>(fields, partial);
}

/** Every field (recursively) has a description: the schema is the user documentation. */
export function missingDescriptions(fields: readonly KongField[], prefix = ''): string[] {
  const out: string[] = [];
  for (const f of fields) {
    for (const [name, def] of Object.entries(f)) {
      const p = prefix ? `${prefix}.${name}` : name;
      if (!def.description) out.push(p);
      if (def.fields) out.push(...missingDescriptions(def.fields, p));
      if (def.elements?.fields) out.push(...missingDescriptions(def.elements.fields, `${p}[]`));
    }
  }
  return out;
}

/**
 * The one normaliser of a config as Kong hands it to the plugin server. Kong's `cjson.encode` leaves
 * unset fields out (a Lua nil), while the code reads them as `null`: every absent or null field becomes
 * its default, or `null` when it has none — recursively through records, arrays of records and maps
 * of records. Unknown keys (Kong's `__plugin_id`, `route_id`, …) are kept as they are.
 */
export function normalizeConfig<T>(fields: readonly KongField[], raw: unknown): T {
  const src = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...src };
  for (const f of fields) {
    for (const [name, def] of Object.entries(f)) out[name] = normalizeValue(def, src[name]);
  }
  return out as T;
}

function normalizeValue(def: KongFieldDef, v: unknown): unknown {
  if (v === undefined || v === null) return defaultOf(def);
  if (def.type === 'record' && def.fields && typeof v === 'object' && !Array.isArray(v))
    return normalizeConfig(def.fields, v);
  if ((def.type === 'array' || def.type === 'set') && def.elements && Array.isArray(v))
    return v.map((e) =>
      def.elements?.type === 'record' && def.elements.fields ? normalizeValue(def.elements, e) : e,
    );
  if (
    def.type === 'map' &&
    def.values?.type === 'record' &&
    def.values.fields &&
    typeof v === 'object' &&
    !Array.isArray(v)
  ) {
    const m: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) m[k] = normalizeValue(def.values, e);
    return m;
  }
  return v;
}
