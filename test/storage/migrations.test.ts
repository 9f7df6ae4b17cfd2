import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { migrateLatest, migrateRollbackAll, openDb, type Db } from '../../src/storage/db.js';
import { readEpochs } from '../../src/storage/epoch.js';
import { insertRevokedToken } from '../../src/storage/revoked-tokens.js';
import { createTestDatabase } from '../support/database.js';

describe('migrations', () => {
  let dir: string;
  let drop: () => Promise<void>;
  let db: Db;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenantgate-migrations-'));
    const database = await createTestDatabase(dir);
    drop = database.drop;
    db = openDb(database.url);
  });

  afterEach(async () => {
    await db.destroy();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('roll back completely and apply again', async () => {
    const applied = await migrateLatest(db);
    expect(applied.length).toBeGreaterThan(0);

    await migrateRollbackAll(db);
    expect(await db.schema.hasTable('revocation_epoch')).toBe(false);
    expect(await db.schema.hasTable('revoked_tokens')).toBe(false);

    expect(await migrateLatest(db)).toEqual(applied);
    expect(await readEpochs(db)).toEqual({ cache: 0, revocations: 0 });
  });

  test('the revocation counter counts new rows only', async () => {
    await migrateLatest(db);
    const row = { jti: 'jti-1', clientId: 'c', expiresAt: Date.now() + 60_000, now: Date.now() };

    await insertRevokedToken(db, row);
    await insertRevokedToken(db, row);
    await insertRevokedToken(db, { ...row, jti: 'jti-2' });

    expect(await readEpochs(db)).toEqual({ cache: 0, revocations: 2 });
  });
});
