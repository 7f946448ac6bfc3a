/** Types of `check-size.mjs` for the tests and the demo. */
export const BUDGET_BYTES: number;
export const CLIENT_ENTRY: string;
export function bundle(options?: { entry?: string; minify?: boolean; format?: 'esm' | 'iife' }): Promise<{ code: Uint8Array; inputs: Record<string, number> }>;
export function measure(): Promise<{ minified: number; gzipped: number; budget: number; ok: boolean; inputs: Record<string, number>; code: Uint8Array }>;
