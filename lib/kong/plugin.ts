/**
 * `fromKong(Schema, Handler)`: the class each plugin's index.ts hands to the plugin server. Its
 * constructor normalises the config Kong sends (absent fields → defaults or null, see
 * `normalizeConfig`) before the handler sees it, so no handler ever tells "absent" from "unset".
 */
import { normalizeConfig, type KongField } from '../schema/kong-schema';

type HandlerClass = new (...args: any[]) => object;

export function fromKong<K extends HandlerClass>(schema: readonly KongField[], Handler: K): K {
  const Normalised = class extends Handler {
    constructor(...args: any[]) {
      super(normalizeConfig(schema, args[0]), ...args.slice(1));
    }
  };
  Object.defineProperty(Normalised, 'name', { value: Handler.name });
  return Normalised;
}
