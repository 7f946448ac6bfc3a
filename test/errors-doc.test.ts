import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CLIENT_ERROR_CODES, ERROR_CODES } from '../src/core/index.js';

it('docs/errors.md lists every error code with its HTTP status, and no other', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(SB_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  const expected = Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]);
  expect(rows.sort()).toEqual(expected.sort());
});

it("docs/errors.md lists every code of the browser module, and no other", () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('| client code |'));
  const rows = [...section.matchAll(/^\| `(SB_ERR_CLIENT_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect(rows.sort()).toEqual(Object.keys(CLIENT_ERROR_CODES).sort());
});
