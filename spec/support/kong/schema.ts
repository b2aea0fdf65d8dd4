/**
 * A subset of Kong's schema engine (kong/db/schema/init.lua) sufficient to build plugin configs the
 * way Kong sends them to StartInstance: defaults applied (`process_auto_fields`), nested records
 * materialised from their sub-field defaults, `required` checked, unknown fields rejected, basic
 * type checks, `one_of`, `between`, `len_min`. Error messages use Kong's wording
 * ("required field missing", "unknown field", "expected a string", ...).
 */

export type FieldDef = {
  type?: string;
  default?: unknown;
  required?: boolean;
  fields?: Array<Record<string, FieldDef>>;
  elements?: FieldDef;
  keys?: FieldDef;
  values?: FieldDef;
  one_of?: unknown[];
  between?: [number, number];
  len_min?: number;
  len_max?: number;
  gt?: number;
  description?: string;
  [k: string]: unknown;
};

export type SchemaErrors = Record<string, unknown>;

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Returns the processed value and errors keyed like Kong's nested error tables. */
export function processField(def: FieldDef, value: unknown, errors: SchemaErrors, key: string): unknown {
  if (value === undefined || value === null) {
    if (def.default !== undefined && def.default !== null) {
      value = clone(def.default);
    } else if (def.type === 'record' && def.fields && def.required !== false) {
      // Kong fills a missing record from its sub-fields' defaults
      value = {};
    } else {
      if (def.required) errors[key] = 'required field missing';
      return null;
    }
  }
  switch (def.type) {
    case 'record': {
      if (!isPlainObject(value)) {
        errors[key] = 'expected a record';
        return value;
      }
      const sub: SchemaErrors = {};
      const out = processRecord(def.fields ?? [], value, sub);
      if (Object.keys(sub).length) errors[key] = sub;
      return out;
    }
    case 'array':
    case 'set': {
      if (isPlainObject(value) && Object.keys(value).length === 0) value = [];
      if (!Array.isArray(value)) {
        errors[key] = def.type === 'set' ? 'expected a set' : 'expected an array';
        return value;
      }
      if (def.len_min !== undefined && value.length < def.len_min)
        errors[key] = `length must be at least ${def.len_min}`;
      if (!def.elements) return value;
      const sub: SchemaErrors = {};
      const out = value.map((el, i) =>
        processField({ ...def.elements, required: true }, el, sub, String(i + 1)),
      );
      if (Object.keys(sub).length) errors[key] = sub;
      return out;
    }
    case 'map': {
      if (!isPlainObject(value)) {
        errors[key] = 'expected a map';
        return value;
      }
      if (!def.values) return value;
      const sub: SchemaErrors = {};
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = processField(def.values, v, sub, k);
      if (Object.keys(sub).length) errors[key] = sub;
      return out;
    }
    case 'string':
      if (typeof value !== 'string') errors[key] = 'expected a string';
      else if (def.len_min !== undefined && value.length < def.len_min)
        errors[key] = `length must be at least ${def.len_min}`;
      else if (def.len_min === undefined && value.length === 0) errors[key] = 'length must be at least 1';
      break;
    case 'number':
      if (typeof value !== 'number') errors[key] = 'expected a number';
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) errors[key] = 'expected an integer';
      break;
    case 'boolean':
      if (typeof value !== 'boolean') errors[key] = 'expected a boolean';
      break;
    default:
      break;
  }
  if (errors[key] === undefined) {
    if (def.one_of && !def.one_of.includes(value)) errors[key] = `expected one of: ${def.one_of.join(', ')}`;
    else if (def.between && typeof value === 'number' && (value < def.between[0] || value > def.between[1]))
      errors[key] = `value should be between ${def.between[0]} and ${def.between[1]}`;
    else if (def.gt !== undefined && typeof value === 'number' && !(value > def.gt))
      errors[key] = `value must be greater than ${def.gt}`;
  }
  return value;
}

export function processRecord(
  fields: Array<Record<string, FieldDef>>,
  value: Record<string, unknown>,
  errors: SchemaErrors,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set<string>();
  for (const f of fields) {
    for (const [name, def] of Object.entries(f)) {
      known.add(name);
      out[name] = processField(def, value[name], errors, name);
    }
  }
  for (const k of Object.keys(value)) if (!known.has(k)) errors[k] = 'unknown field';
  return out;
}

/**
 * Applies a plugin schema as printed by the query command
 * (`{name, fields: [{config: {type: "record", fields: [...]}}]}`) to a config table.
 */
export function applyPluginSchema(
  schema: { fields?: Array<Record<string, FieldDef>> } | undefined,
  conf: Record<string, unknown> | null | undefined,
): { config: Record<string, unknown>; errors?: SchemaErrors } {
  let configDef: FieldDef | undefined;
  for (const f of schema?.fields ?? []) if (f['config']) configDef = f['config'];
  const errors: SchemaErrors = {};
  const def: FieldDef = configDef ?? { type: 'record', fields: [] };
  const config = processField(
    { ...def, type: 'record', required: true },
    conf ?? {},
    errors,
    'config',
  ) as Record<string, unknown>;
  return Object.keys(errors).length ? { config, errors } : { config };
}

/** Flattens Kong's nested field errors to `[{field: "config.a.b", message}]`. */
export function flattenErrors(errs: SchemaErrors, prefix = ''): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  for (const [k, v] of Object.entries(errs)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.push({ field: p, message: v });
    else if (isPlainObject(v)) out.push(...flattenErrors(v, p));
  }
  return out;
}
