import { SemanticCache, NAME } from './handler';
import { Schema } from './schema';
import { PRIORITY } from '../../lib/kong/priorities';
import { VERSION } from '../../lib/version';
import { withOps } from '../../lib/ops';
import * as ops from './ops';

export const Name = NAME;
export const Plugin = withOps(NAME, SemanticCache, { cache: ops }); // ops API: cache entries and purge (lib/ops)
export { Schema };
export const Version = VERSION;
export const Priority = PRIORITY.semanticCache;
