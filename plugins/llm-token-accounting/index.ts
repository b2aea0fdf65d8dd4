import { TokenAccounting, NAME } from './handler';
import { Schema } from './schema';
import { PRIORITY } from '../../lib/kong/priorities';
import { VERSION } from '../../lib/version';
import { withOps } from '../../lib/ops';

export const Name = NAME;
export const Plugin = withOps(NAME, TokenAccounting); // registers configs with the ops API (lib/ops)
export { Schema };
export const Version = VERSION;
export const Priority = PRIORITY.tokenAccounting;
