/** Shared config builders for the llm-model-router specs. */
import { withDefaults } from '../../../lib/schema/kong-schema';
import { Schema, type ModelRouterConfig } from '../../../plugins/llm-model-router/schema';

export interface T {
  name: string;
  model?: string;
  url?: string;
  weight?: number;
  priority?: number;
  input_cost?: number;
  output_cost?: number;
  max_context?: number;
  auth?: { header_name: string; header_value: string };
}

/** A target record in user form (defaults filled by `config`). */
export function target(t: T): Record<string, unknown> {
  return {
    name: t.name,
    model: {
      name: t.model ?? `${t.name}-model`,
      options: {
        upstream_url: t.url ?? `http://${t.name}.example:8080/v1`,
        ...(t.input_cost !== undefined ? { input_cost: t.input_cost } : {}),
        ...(t.output_cost !== undefined ? { output_cost: t.output_cost } : {}),
        ...(t.max_context !== undefined ? { max_context: t.max_context } : {}),
      },
    },
    ...(t.auth ? { auth: t.auth } : {}),
    ...(t.weight !== undefined ? { weight: t.weight } : {}),
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
  };
}

/** A full config the way Kong sends it (every default present). */
export function config(partial: Record<string, unknown>): ModelRouterConfig {
  const c = withDefaults<ModelRouterConfig>(Schema, { strategy: 'memory', ...partial });
  // nested records inside array elements get their defaults too
  for (const t of c.targets as unknown as Record<string, any>[]) {
    t.model = {
      provider: 'openai',
      ...t.model,
      options: {
        input_cost: null,
        output_cost: null,
        cached_input_cost: null,
        max_context: null,
        ...t.model.options,
      },
    };
    t.auth ??= { header_name: null, header_value: null };
  }
  for (const r of c.rules as unknown as Record<string, unknown>[]) {
    for (const k of [
      'models',
      'consumers',
      'consumer_groups',
      'routes',
      'headers',
      'min_prompt_tokens',
      'max_prompt_tokens',
      'stream',
      'algorithm',
    ])
      r[k] ??= null;
  }
  return c;
}

export function chat(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'hello there' }], ...extra };
}
