import type pg from 'pg';

/** A connection of the pool (inside a transaction), or the pool (a query on any connection). */
export type Queryable = pg.Pool | pg.PoolClient;
