/** The connection a part of the SQLite backend works on, and its statements, each prepared once per connection. */
import type Database from 'better-sqlite3';

export class Prepared {
  private readonly statements = new Map<string, Database.Statement>();
  private conn: Database.Database | undefined;

  constructor(private readonly closed: () => never) {}

  /** Uses this connection from now on (the store's, or the writer's). */
  attach(db: Database.Database): void {
    this.conn = db;
    this.statements.clear();
  }

  detach(): void {
    this.conn = undefined;
    this.statements.clear();
  }

  protected get db(): Database.Database {
    return this.conn ?? this.closed();
  }

  /** A prepared statement, prepared once per connection. */
  protected stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st as unknown as Database.Statement<P, R>;
  }
}
