import { migrateLatest, migrateRollbackAll, type Db } from '../../src/storage/db.js';
import { readEpochs } from '../../src/storage/epoch.js';
import { insertRevokedToken } from '../../src/storage/revoked-tokens.js';
import { openScratchDb, type ScratchDb } from '../support/database.js';

describe('migrations', () => {
  let scratch: ScratchDb;
  let db: Db;

  beforeEach(async () => {
    scratch = await openScratchDb({ migrate: false });
    db = scratch.db;
  });

  afterEach(async () => {
    await scratch.close();
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

  test('revocation counter counts new rows', async () => {
    await migrateLatest(db);
    const row = { jti: 'jti-1', clientId: 'c', expiresAt: Date.now() + 60_000, now: Date.now() };

    await insertRevokedToken(db, row);
    await insertRevokedToken(db, row);
    await insertRevokedToken(db, { ...row, jti: 'jti-2' });

    expect(await readEpochs(db)).toEqual({ cache: 0, revocations: 2 });
  });
});
