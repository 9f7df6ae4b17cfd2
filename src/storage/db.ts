import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

import { migrations } from '../../migrations/index.js';

// Postgres returns BIGINT (OID 20) as a string because it may exceed 2^53; our BIGINT columns
// hold epoch milliseconds and counters, far below that.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

export type Db = Knex;

export function isSqlite(url: string): boolean {
  return url.startsWith('sqlite:');
}

/** Returns the absolute path of a SQLite database file, or undefined for Postgres and in-memory SQLite. */
export function sqliteFile(url: string): string | undefined {
  if (!isSqlite(url)) return undefined;
  const filename = url.slice('sqlite:'.length);
  return filename === ':memory:' ? undefined : resolve(filename);
}

/** Builds the knex configuration for a DATABASE_URL (sqlite:PATH or postgres://…). */
// knex's own messages go to stderr as before, except the two it prints for every attempt on a
// held migration lock: migrateLatest retries for up to 30 s and reports the wait once.
const KNEX_LOCK_WARNING = /^Can't take lock to run migrations|knex migrate:unlock/;
const knexLog = {
  warn(message: unknown): void {
    if (!KNEX_LOCK_WARNING.test(String(message))) process.stderr.write(`knex: ${String(message)}\n`);
  },
  error(message: unknown): void {
    process.stderr.write(`knex: ${String(message)}\n`);
  },
  deprecate(method: unknown, alternative: unknown): void {
    process.stderr.write(`knex: ${String(method)} is deprecated; use ${String(alternative)}\n`);
  },
  debug(): void {},
};

export function knexConfig(url: string): Knex.Config {
  if (isSqlite(url)) {
    const filename = url.slice('sqlite:'.length);
    return {
      client: 'sqlite3',
      connection: { filename: filename === ':memory:' ? filename : resolve(filename) },
      useNullAsDefault: true,
      log: knexLog,
      // One connection serialises writes inside the process; other processes wait on busy_timeout.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
          const pragmas = ['PRAGMA journal_mode = WAL', 'PRAGMA foreign_keys = ON', 'PRAGMA busy_timeout = 5000', 'PRAGMA synchronous = FULL'];
          const next = (i: number): void => {
            if (i === pragmas.length) return done(null, conn);
            conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
          };
          next(0);
        },
      },
    };
  }

  return {
    client: 'pg',
    log: knexLog,
    connection: { connectionString: url, connectionTimeoutMillis: 3000 },
    pool: { min: 0, max: 10, acquireTimeoutMillis: 5000 },
    acquireConnectionTimeout: 5000,
  };
}

/** Opens the database; for SQLite, creates the file's folder first. */
export function openDb(url: string): Db {
  if (isSqlite(url)) {
    const filename = url.slice('sqlite:'.length);
    if (filename !== ':memory:') mkdirSync(dirname(resolve(filename)), { recursive: true });
  }
  return knexFactory(knexConfig(url));
}

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = migrations.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};

// Instances started together race to create knex's bookkeeping tables and to take its lock.
// The loser of that race gets one of these errors and retries. The Postgres error codes are 23505
// (unique_violation, from concurrent CREATE TABLE) and 42P07 (duplicate_table).
const MIGRATION_RACE_CODES = new Set(['23505', '42P07']);
const MIGRATION_RETRY_MS = 250;
const MIGRATION_RETRY_MAX = 120;

function lostMigrationRace(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'LockError' || /already locked/.test(err.message) || (typeof code === 'string' && MIGRATION_RACE_CODES.has(code));
}

// Postgres advisory lock key that serialises migrations across instances ("tgmigrat" as bytes).
const MIGRATION_ADVISORY_LOCK = '8387793130475381108';

/**
 * Applies pending migrations and returns the names applied now; safe to run from several
 * processes at once. On Postgres a session advisory lock, held on a connection of its own, makes
 * concurrent starts take turns: knex's own lock table cannot do that on an empty database,
 * because two processes that create it together each insert an "unlocked" row, after which
 * knex's lock never succeeds ("Migration table is already locked" forever).
 *
 * @param onWait called once, when knex's lock is held elsewhere and the retries begin.
 */
export async function migrateLatest(db: Db, onWait?: () => void): Promise<string[]> {
  if (db.client.config.client !== 'pg') return migrateWithRetries(db, onWait);

  const connection = (await db.client.acquireConnection()) as { query(sql: string, values?: unknown[]): Promise<unknown> };
  try {
    await connection.query('select pg_advisory_lock($1)', [MIGRATION_ADVISORY_LOCK]);
    try {
      return await migrateWithRetries(db, onWait);
    } finally {
      await connection.query('select pg_advisory_unlock($1)', [MIGRATION_ADVISORY_LOCK]);
    }
  } finally {
    await db.client.releaseConnection(connection);
  }
}

async function migrateWithRetries(db: Db, onWait?: () => void): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
      return applied;
    } catch (err) {
      if (!lostMigrationRace(err) || attempt >= MIGRATION_RETRY_MAX) throw err;
      if (attempt === 1) onWait?.();
      await new Promise((resolve) => setTimeout(resolve, MIGRATION_RETRY_MS));
    }
  }
}

export async function migrateRollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}
