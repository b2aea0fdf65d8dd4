import type { Detection } from './types';
export function detectPerson(_text: string, _out: Detection[]): void {}
