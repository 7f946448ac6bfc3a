/**
 * Issue 6, done-when 4, and issue 20: the widget + Threads entry of the browser module, data
 * validation included, stays within 24 KiB minified and gzipped. Runs the budget script as a developer would; it bundles with esbuild.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

it('the client bundle (listener, both normalizers, the call model, forwarder) is within 24 KiB min+gz, with the zod catalogue that validates every event\'s data', async () => {
  let stdout: string;
  let code = 0;
  try {
    ({ stdout } = await promisify(execFile)('node', ['scripts/check-size.mjs', '--json'], { cwd: root }));
  } catch (err) {
    const e = err as { stdout?: string; code?: number };
    stdout = e.stdout ?? '';
    code = e.code ?? 1;
  }
  const m = JSON.parse(stdout) as { minified: number; gzipped: number; budget: number; ok: boolean; inputs: Record<string, number> };
  console.log(`client bundle: ${m.minified} B minified, ${m.gzipped} B min+gz (budget ${m.budget})`);
  expect(m.budget).toBe(24 * 1024);
  expect(m.gzipped, `over budget: ${m.gzipped} > ${m.budget}`).toBeLessThanOrEqual(m.budget);
  expect(m.ok).toBe(true);
  expect(code).toBe(0);
  const inputs = Object.keys(m.inputs);
  // Data validation is in the bundle (issue 20): the catalogue and zod with it.
  for (const part of ['src/client/listener.ts', 'src/client/forwarder.ts', 'src/connectors/widget/normalize.ts', 'src/connectors/threads/normalize.ts', 'src/core/calls.ts', 'src/core/catalog.ts']) {
    expect(inputs.some((f) => f.endsWith(part)), part).toBe(true);
  }
  expect(inputs).toContain('zod');
});
