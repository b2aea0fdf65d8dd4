import { TokenAccounting, NAME } from './handler';
import { Schema } from './schema';
import { PRIORITY } from '../../lib/kong/priorities';
import { VERSION } from '../../lib/version';
import { fromKong } from '../../lib/kong/plugin';
import { withOps } from '../../lib/ops';

export const Name = NAME;
// fromKong: Kong leaves unset fields out of the config; the handler sees them as defaults or null.
export const Plugin = fromKong(Schema, withOps(NAME, TokenAccounting)); // registers configs with the ops API (lib/ops)
export { Schema };
export const Version = VERSION;
export const Priority = PRIORITY.tokenAccounting;
