import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { migrateLatest, openDb, type Db } from '../../src/storage/db.js';

// With DATABASE_URL=postgres://… the whole suite runs on that server: each test server gets a
// database of its own there, dropped afterwards. Without it, each gets a SQLite file.
const POSTGRES_ADMIN_URL = process.env.DATABASE_URL ?? '';

export function usingPostgres(): boolean {
  return /^postgres(ql)?:\/\//.test(POSTGRES_ADMIN_URL);
}

export async function createTestDatabase(dir: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!usingPostgres()) return { url: `sqlite:${join(dir, 'tenantgate.sqlite')}`, drop: async () => undefined };
  return createPostgresDatabase(POSTGRES_ADMIN_URL);
}

/** Creates an empty database on the Postgres server of `adminUrl`; `drop` removes it. */
export async function createPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export interface ScratchDb {
  db: Db;
  url: string;
  /** Closes the pool and removes the database and its folder. */
  close(): Promise<void>;
}

/**
 * Opens a fresh database (SQLite in a temporary folder, or Postgres as above), migrated unless
 * `migrate` is false, for tests that work on the storage layer without a server.
 */
export async function openScratchDb(options: { migrate?: boolean } = {}): Promise<ScratchDb> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantgate-db-'));
  const database = await createTestDatabase(dir);
  const db = openDb(database.url);
  if (options.migrate !== false) await migrateLatest(db);
  return {
    db,
    url: database.url,
    async close() {
      await db.destroy();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
