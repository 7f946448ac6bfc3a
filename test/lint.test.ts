/**
 * Issue 20: `npm run lint` keeps the layers. The tree as it is passes; a copy of it with one
 * planted violation of each kind fails, naming the rule and the planted file: Node built-ins or
 * outside modules in src/core, a connector importing another connector or the server, the client
 * importing server code or reaching a Node built-in, a database driver outside a store backend,
 * an import cycle (type-only included), and an ESLint rule (an explicit `any`).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { makeTempDir } from './helpers/process.js';

const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

/** Runs a command in `cwd`: its exit code and output, never a rejection. */
async function exec(cwd: string, cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const cruiseResult = z.looseObject({
  summary: z.looseObject({
    violations: z.array(z.looseObject({ from: z.string(), to: z.string(), rule: z.looseObject({ name: z.string() }), cycle: z.optional(z.array(z.looseObject({ name: z.string() }))) })),
  }),
});

/** dependency-cruiser as `npm run lint` runs it (its exit code), and again for its findings as JSON. */
async function depcruise(cwd: string) {
  const bin = join(root, 'node_modules/.bin/depcruise');
  const asLint = await exec(cwd, bin, ['src', '--config', '.dependency-cruiser.cjs']);
  const json = await exec(cwd, bin, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json']);
  return { code: asLint.code, stderr: asLint.stdout + asLint.stderr, violations: cruiseResult.parse(JSON.parse(json.stdout)).summary.violations };
}

/** Each planted file and the rule it must break. */
const PLANTED: Record<string, { rule: string; text: string }> = {
  'src/core/planted-builtin.ts': { rule: 'core-no-node-builtins', text: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n" },
  'src/core/planted-outside.ts': { rule: 'core-imports-only-core', text: "import { connectorFor } from '../connectors/registry.js';\nexport const find = connectorFor;\n" },
  'src/connectors/widget/planted.ts': { rule: 'connector-not-another-connector', text: "import { threads } from '../threads/index.js';\nexport const other = threads;\n" },
  'src/connectors/threads/planted.ts': { rule: 'connector-not-server', text: "import { loadConfigFile } from '../../server/config.js';\nexport const load = loadConfigFile;\n" },
  'src/client/planted-server.ts': { rule: 'client-not-server', text: "import { VERSION } from '../server/version.js';\nexport const v = VERSION;\n" },
  'src/client/planted-impure.ts': { rule: 'client-pure', text: "import { Connect1cPipeSource } from '../connectors/connect1c/pipe.js';\nexport const pipe = Connect1cPipeSource;\n" },
  'src/server/planted-db.ts': { rule: 'database-driver-only-in-a-backend', text: "import Database from 'better-sqlite3';\nexport const open = (p: string) => new Database(p);\n" },
  'src/core/planted-cycle-a.ts': { rule: 'no-cycle', text: "import type { B } from './planted-cycle-b.js';\nexport interface A { b?: B }\n" },
  'src/core/planted-cycle-b.ts': { rule: 'no-cycle', text: "import type { A } from './planted-cycle-a.js';\nexport interface B { a?: A }\n" },
};

describe('npm run lint', () => {
  let copy = '';
  beforeAll(() => {
    copy = makeTempDir('switchboard-lint-');
    for (const f of ['src', 'tsconfig.json', 'tsconfig.base.json', '.dependency-cruiser.cjs', 'eslint.config.js', 'package.json']) cpSync(join(root, f), join(copy, f), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  });

  it('passes on the tree as it is: layers, cycles and ESLint', async () => {
    const layers = await depcruise(copy);
    expect(layers.code, layers.stderr).toBe(0);
    expect(layers.violations).toEqual([]);
    const lint = await exec(copy, join(root, 'node_modules/.bin/eslint'), ['src']);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
  });

  it('fails on each kind of planted violation, naming the rule and the file', async () => {
    for (const [file, { text }] of Object.entries(PLANTED)) {
      mkdirSync(join(copy, file, '..'), { recursive: true });
      writeFileSync(join(copy, file), text);
    }
    writeFileSync(join(copy, 'src/core/planted-any.ts'), 'export const loose: any = 1;\n');
    const layers = await depcruise(copy);
    expect(layers.code).not.toBe(0);
    const violations = layers.violations;
    for (const [file, { rule }] of Object.entries(PLANTED)) {
      // A cycle is reported once, from one of its files, and names them all.
      const names = (v: (typeof violations)[number]) => [v.from, ...(v.cycle ?? []).map((c) => c.name)];
      expect(violations.some((v) => v.rule.name === rule && names(v).includes(file)), `${rule} for ${file}: ${JSON.stringify(violations)}`).toBe(true);
    }
    // Nothing but the planted files is named.
    expect(violations.filter((v) => !Object.keys(PLANTED).includes(v.from))).toEqual([]);
    const lint = await exec(copy, join(root, 'node_modules/.bin/eslint'), ['src']);
    expect(lint.code).not.toBe(0);
    expect(lint.stdout).toMatch(/planted-any\.ts[\s\S]*@typescript-eslint\/no-explicit-any/);
  });
});
