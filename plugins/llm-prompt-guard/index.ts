import { PromptGuard, NAME } from './handler';
import { Schema } from './schema';
import { PRIORITY } from '../../lib/kong/priorities';
import { VERSION } from '../../lib/version';
import { fromKong } from '../../lib/kong/plugin';

export const Name = NAME;
// fromKong: Kong leaves unset fields out of the config; the handler sees them as defaults or null.
export const Plugin = fromKong(Schema, PromptGuard);
export { Schema };
export const Version = VERSION;
export const Priority = PRIORITY.promptGuard;
