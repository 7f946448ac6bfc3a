/** The numbered `.sql` migrations of a backend's folder (`migrations/<backend>/NNN_name.sql`). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations of `dir` whose version is not in `applied`, in version order. */
export function pendingMigrations(dir: string, applied: ReadonlySet<number>): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((name) => ({ name, version: parseInt(name, 10) }))
    .filter((m) => !applied.has(m.version))
    .sort((a, b) => a.version - b.version)
    .map((m) => ({ ...m, sql: readFileSync(join(dir, m.name), 'utf8') }));
}
