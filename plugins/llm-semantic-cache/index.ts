import { SemanticCache, NAME } from './handler';
import { Schema } from './schema';
import { PRIORITY } from '../../lib/kong/priorities';
import { VERSION } from '../../lib/version';

export const Name = NAME;
export const Plugin = SemanticCache;
export { Schema };
export const Version = VERSION;
export const Priority = PRIORITY.semanticCache;
