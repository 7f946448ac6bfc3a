#!/usr/bin/env node
/**
 * The size budget of the browser module (issue 6): the widget + Threads entry `src/client/index.ts`
 * (listener, both normalizers, the call lifecycle, the forwarder and the core they use), bundled
 * for the browser and minified with esbuild, then gzipped, must stay within 24 KiB.
 *
 *   node scripts/check-size.mjs            # prints the figures; exit 1 when over the budget
 *   node scripts/check-size.mjs --json     # the same as one JSON line
 *   node scripts/check-size.mjs --out FILE # also writes the minified bundle
 *
 * Data validation is part of the bundle (issue 20): `createEvent` checks every event's `data`
 * against the catalogue (`src/core/catalog.ts`, zod/mini) in the browser as on the server. That
 * costs about 9 KiB of the total (zod/mini's core about 8, the catalogue and the issue texts the
 * rest; an app that already bundles zod 4 shares zod's part), so the budget, 12 KiB while the
 * catalogue was left out (issue 6), is 24 KiB.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 24 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLIENT_ENTRY = join(root, 'src/client/index.ts');

/**
 * Bundles browser code (an entry of the client, the demo's pages) as one ES module.
 * @param {{ entry?: string, minify?: boolean, format?: 'esm' | 'iife' }} [options]
 * @returns {Promise<{ code: Uint8Array, inputs: Record<string, number> }>}
 */
export async function bundle({ entry = CLIENT_ENTRY, minify = true, format = 'esm' } = {}) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    minify,
    format,
    platform: 'browser',
    target: 'es2020',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  const meta = Object.values(result.metafile.outputs)[0];
  const inputs = {};
  for (const [file, { bytesInOutput }] of Object.entries(meta?.inputs ?? {})) {
    const key = file.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1');
    inputs[key] = (inputs[key] ?? 0) + bytesInOutput;
  }
  return { code: output.contents, inputs };
}

/** Bundles the client entry and measures it. */
export async function measure() {
  const { code, inputs } = await bundle();
  const gzipped = gzipSync(code, { level: 9 }).length;
  return { minified: code.length, gzipped, budget: BUDGET_BYTES, ok: gzipped <= BUDGET_BYTES, inputs, code };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const { code, ...m } = await measure();
  const out = args.indexOf('--out');
  if (out >= 0 && args[out + 1]) writeFileSync(args[out + 1], code);
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify(m)}\n`);
  } else {
    const largest = Object.entries(m.inputs)
      .sort((a, b) => b[1] - a[1])
      .map(([f, n]) => `  ${String(n).padStart(6)}  ${f.replace(`${root}/`, '')}`);
    process.stdout.write(
      [
        `client bundle (src/client/index.ts, esbuild --bundle --minify --platform=browser, gzip -9):`,
        `  ${m.minified} bytes minified, ${m.gzipped} bytes minified + gzipped; budget ${m.budget} (${m.ok ? 'within' : 'OVER'})`,
        'minified bytes by input:',
        ...largest,
        '',
      ].join('\n'),
    );
  }
  process.exitCode = m.ok ? 0 : 1;
}
