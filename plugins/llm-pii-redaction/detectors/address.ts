import type { Detection } from './types';
export function detectAddress(_text: string, _out: Detection[]): void {}
