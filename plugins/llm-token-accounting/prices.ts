/**
 * Prices of a model for this plugin: config overrides win, then the router's target prices, then the
 * built-in catalog, then the `unknown_model` fallback. Costs are exact integers (pico-USD inside,
 * micro-USD for budget counters, rounded up so budgets never under-count).
 */
import { costOfPico, picoToUsd, resolvePrices, type Prices, type ResolvedPrices } from '../../lib/pricing';
import type { RouteDecision, SharedUsage } from '../../lib/kong/shared-ctx';
import { isPluginError } from '../../lib/errors';
import type { PriceConfig, TokenAccountingConfig } from './schema';

export interface PriceLookup {
  model: string;
  prices?: ResolvedPrices;
}

function fromConfig(p: PriceConfig): Prices {
  return {
    input: p.input_cost,
    output: p.output_cost,
    ...(p.cached_input_cost !== null && p.cached_input_cost !== undefined
      ? { cached_input: p.cached_input_cost }
      : {}),
  };
}

export class PriceBook {
  private readonly overrides: Record<string, Prices> | undefined;
  private readonly defaults: Prices;

  constructor(private readonly config: TokenAccountingConfig) {
    this.overrides = config.prices
      ? Object.fromEntries(Object.entries(config.prices).map(([m, p]) => [m, fromConfig(p)]))
      : undefined;
    this.defaults = fromConfig(config.default_prices);
  }

  /** Prices for `model`; `prices` is undefined when the model is unknown and the fallback is reject. */
  forModel(model: string, route?: RouteDecision): PriceLookup {
    const fallback = this.config.unknown_model;
    try {
      const resolved = resolvePrices(model, this.overrides, 'reject');
      if (resolved.source === 'override' || !route || route.input_cost === undefined)
        return { model, prices: resolved };
    } catch (err) {
      if (!isPluginError(err)) throw err;
    }
    if (route && route.model === model && route.input_cost !== undefined && route.output_cost !== undefined) {
      return {
        model,
        prices: {
          input: route.input_cost,
          output: route.output_cost,
          ...(route.cached_input_cost !== undefined ? { cached_input: route.cached_input_cost } : {}),
          source: 'override',
          key: route.target,
        },
      };
    }
    try {
      return { model, prices: resolvePrices(model, this.overrides, fallback, this.defaults) };
    } catch (err) {
      if (isPluginError(err) && err.code === 'MODEL_UNKNOWN') return { model };
      throw err;
    }
  }

  /** Cost in micro-USD, rounded up (0 when the model has no price). */
  costMicros(
    p: PriceLookup,
    usage: Pick<SharedUsage, 'prompt_tokens' | 'completion_tokens'> & Partial<SharedUsage>,
  ): number {
    if (!p.prices) return 0;
    const pico = costOfPico(usage, p.prices).total;
    return Number((pico + 999_999n) / 1_000_000n);
  }

  /** Exact cost in USD. */
  costUsd(
    p: PriceLookup,
    usage: Pick<SharedUsage, 'prompt_tokens' | 'completion_tokens'> & Partial<SharedUsage>,
  ): number {
    return p.prices ? picoToUsd(costOfPico(usage, p.prices).total) : 0;
  }
}
