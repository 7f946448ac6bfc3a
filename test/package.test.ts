/**
 * What `npm pack` ships holds together for a reader of the package on npm: a licence, source
 * maps whose sources are in it, README and docs links that lead to files in it, and no mention of
 * an example that is not there. Reads `npm pack --dry-run --json` of the built tree (no network,
 * no scripts: `npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

interface PackReport {
  files: { path: string }[];
}

/** Relative link targets of a Markdown text, without their `#fragment`: `[x](docs/a.md#b)` → `docs/a.md`. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => decodeURIComponent(target.replace(/#.*$/, '')));
}

describe('the package (npm pack)', () => {
  let files: Set<string>;
  /** Whether a path of the pack is a file in it, or a folder holding one. */
  const inPack = (path: string): boolean => {
    const p = posix.normalize(path).replace(/\/$/, '');
    return files.has(p) || [...files].some((f) => f.startsWith(`${p}/`));
  };

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const [report] = JSON.parse(stdout) as PackReport[];
    files = new Set(report?.files.map((f) => f.path));
    expect(files.has('dist/index.js'), 'build first: npm run build').toBe(true);
  }, 60_000);

  it('ships the MIT licence that package.json names', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(files.has('LICENSE')).toBe(true);
    const licence = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(licence).toMatch(/^MIT License/);
    expect(licence).toContain('Copyright (c) 2026 Switchboard contributors');
  });

  it('ships the sources of every source map, and no tests or fixtures', () => {
    const maps = [...files].filter((f) => f.endsWith('.map'));
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = posix.join(posix.dirname(map), sourceRoot ?? '', source);
        expect(files.has(path), `${map} names ${source}, not in the package`).toBe(true);
      }
    }
    expect([...files].filter((f) => /\.test\.ts$|\/fixtures\//.test(f))).toEqual([]);
  });

  it('README and the docs it ships link only to files in the package, and name only examples that exist', () => {
    const pages = [...files].filter((f) => f.endsWith('.md'));
    expect(pages).toContain('README.md');
    for (const page of pages) {
      for (const target of relativeLinks(readFileSync(join(root, page), 'utf8'))) {
        expect(inPack(posix.join(posix.dirname(page), target)), `${page} links to ${target}, not in the package`).toBe(true);
      }
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/\bexamples\/[\w./-]*\w/g)].map((m) => m[0]);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(files.has(example), `README names ${example}, not in the package`).toBe(true);
  });
});
