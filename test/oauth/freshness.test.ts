import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EpochWatcher } from '../../src/oauth/freshness.js';
import { bumpEpoch } from '../../src/storage/epoch.js';
import { insertRevokedToken } from '../../src/storage/revoked-tokens.js';
import { migrateLatest, openDb, type Db } from '../../src/storage/db.js';
import { WalIndexSignal } from '../../src/storage/wal-index-signal.js';
import { openScratchDb, type ScratchDb } from '../support/database.js';

describe('EpochWatcher', () => {
  let scratch: ScratchDb;
  let db: Db;
  // A second pool on the same database stands in for another process (the CLI, another instance).
  let other: Db;
  let reads: number;
  let changes: number;
  let watcher: EpochWatcher;

  beforeEach(async () => {
    scratch = await openScratchDb();
    db = scratch.db;
    other = openDb(scratch.url);
    reads = 0;
    changes = 0;
    db.on('query', (query: { sql: string }) => {
      if (query.sql.includes('cache_epoch')) reads += 1;
    });
    watcher = new EpochWatcher(db, () => {
      changes += 1;
    });
    await watcher.prime();
    reads = 0;
  });

  afterEach(async () => {
    await other.destroy();
    await scratch.close();
  });

  test('concurrent checks share at most two reads', async () => {
    const results = await Promise.all(Array.from({ length: 32 }, () => watcher.check()));

    expect(results.every((changed) => changed === false)).toBe(true);
    expect(reads).toBeLessThanOrEqual(2);
  });

  test('check after a commit elsewhere sees it', async () => {
    const earlier = Promise.all(Array.from({ length: 8 }, () => watcher.check()));
    await other.transaction((trx) => bumpEpoch(trx));

    expect(await watcher.check()).toBe(true);
    expect(changes).toBe(1);
    await earlier;
    expect(await watcher.check()).toBe(false);
  });

  test('check started during a read waits for the next read', async () => {
    const first = watcher.check();
    const readsBefore = reads;
    await other.transaction((trx) => bumpEpoch(trx));
    const second = watcher.check();

    expect(await second).toBe(true);
    await first;
    expect(reads).toBeGreaterThan(readsBefore);
  });

  test('a revocation elsewhere moves the revocation counter without a refresh', async () => {
    const before = watcher.revocationEpoch;
    await insertRevokedToken(other, { jti: 'jti-1', clientId: 'c', expiresAt: Date.now() + 60_000, now: Date.now() });

    expect(await watcher.check()).toBe(false);
    expect(changes).toBe(0);
    expect(watcher.revocationEpoch).toBe(before + 1);
  });

  test('failed read rejects its checks and the next check reads again', async () => {
    await db.schema.renameTable('cache_epoch', 'cache_epoch_moved');
    await expect(Promise.all([watcher.check(), watcher.check()])).rejects.toThrow();
    await db.schema.renameTable('cache_epoch_moved', 'cache_epoch');

    expect(await watcher.check()).toBe(false);
  });
});

describe('EpochWatcher with the WAL-index signal (SQLite)', () => {
  let dir: string;
  let file: string;
  let db: Db;
  let other: Db;
  let signal: WalIndexSignal;
  let reads: number;
  let changes: number;
  let watcher: EpochWatcher;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenantgate-wal-signal-'));
    file = join(dir, 'tenantgate.sqlite');
    db = openDb(`sqlite:${file}`);
    await migrateLatest(db);
    other = openDb(`sqlite:${file}`);
    signal = WalIndexSignal.watch(file);
    reads = 0;
    changes = 0;
    db.on('query', (query: { sql: string }) => {
      if (query.sql.includes('cache_epoch')) reads += 1;
    });
    watcher = new EpochWatcher(
      db,
      () => {
        changes += 1;
      },
      signal,
    );
    await watcher.prime();
    reads = 0;
  });

  afterEach(async () => {
    signal.close();
    await other.destroy();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('checks without a commit anywhere read nothing', async () => {
    for (let i = 0; i < 50; i += 1) expect(await watcher.check()).toBe(false);
    expect(reads).toBe(0);
  });

  test('a commit by another connection is seen by the next check', async () => {
    await other.transaction((trx) => bumpEpoch(trx));
    expect(await watcher.check()).toBe(true);
    expect(changes).toBe(1);
    expect(reads).toBe(1);

    // A commit that does not touch the epoch costs one read and reports no change.
    await other.raw('create table scratch (x integer)');
    await other.raw('insert into scratch values (1)');
    expect(await watcher.check()).toBe(false);
    expect(reads).toBe(2);
    expect(await watcher.check()).toBe(false);
    expect(reads).toBe(2);
    expect(changes).toBe(1);
  });

  test('follows the -shm file when SQLite deletes and recreates it', async () => {
    expect(signal.sample()).toBeDefined();
    // The last connection to close deletes the WAL and its index.
    await other.destroy();
    await db.destroy();
    expect(existsSync(`${file}-shm`)).toBe(false);
    expect(signal.sample()).toBeUndefined();

    other = openDb(`sqlite:${file}`);
    db = openDb(`sqlite:${file}`);
    await other.transaction((trx) => bumpEpoch(trx));
    const recreated = signal.sample();
    expect(recreated).toBeDefined();
    await other.transaction((trx) => bumpEpoch(trx));
    expect(signal.sample()!.equals(recreated!)).toBe(false);
  });

  test('a failed refresh leaves the change unseen, so the next check refreshes again', async () => {
    let failures = 1;
    const flaky = new EpochWatcher(
      db,
      () => {
        if (failures-- > 0) throw new Error('refresh failed');
      },
      signal,
    );
    await flaky.prime();
    await other.transaction((trx) => bumpEpoch(trx));
    await expect(flaky.check()).rejects.toThrow('refresh failed');
    expect(await flaky.check()).toBe(true);
    expect(await flaky.check()).toBe(false);
  });
});
