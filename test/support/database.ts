import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import pg from 'pg';

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
