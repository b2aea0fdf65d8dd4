/**
 * Prompt-token counting (gpt-tokenizer v4, ids identical to tiktoken's) and output estimation.
 */
export * from './encoding';
export * from './image';
export * from './chat';
