/**
 * Every row of every table of a store, as text: for tests that must show something is nowhere in
 * it (an erasure). Reads the SQLite file read-only, or PostgreSQL's `public` schema; test-only
 * SQL, through the drivers the backends use.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

/** `table: JSON of each row`, one line per row; bytes as UTF-8 text. */
export async function dumpTables(store: { sqlite?: string | undefined; postgres?: string | undefined }): Promise<string[]> {
  // Bytes as text before JSON.stringify, which would write a Buffer as its list of byte values.
  const asText = (row: Record<string, unknown>) =>
    JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'bigint' ? String(v) : v])));
  if (store.sqlite !== undefined) {
    const db = new Database(store.sqlite, { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
      return tables.flatMap(({ name }) => db.prepare<[], Record<string, unknown>>(`SELECT * FROM "${name}"`).all().map((row) => `${name}: ${asText(row)}`));
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: store.postgres });
  await client.connect();
  try {
    const tables = (await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")).rows;
    const out: string[] = [];
    for (const { table_name: name } of tables) for (const row of (await client.query<Record<string, unknown>>(`SELECT * FROM "${name}"`)).rows) out.push(`${name}: ${asText(row)}`);
    return out;
  } finally {
    await client.end();
  }
}
