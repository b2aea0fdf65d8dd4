/**
 * The canonical OpenAI request/response model, the safe body parser, text walkers and response helpers.
 */
export * from './types';
export * from './parse';
export * from './walk';
export * from './response';
