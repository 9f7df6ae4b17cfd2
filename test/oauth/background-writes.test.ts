import { createLogger } from '../../src/logger.js';
import { AuthFailureAudit } from '../../src/oauth/auth-failure-audit.js';
import { ClientStore } from '../../src/oauth/client-store.js';
import { LastUsedRecorder } from '../../src/oauth/last-used.js';
import type { Db } from '../../src/storage/db.js';
import { openScratchDb, type ScratchDb } from '../support/database.js';
import { LogCapture, TestClock } from '../support/server.js';

// Shutdown destroys the connection pool right after stop(). A write still running then waits
// for a connection that never comes, and keeps the process alive after "stopped".
describe('batched writer stop()', () => {
  let scratch: ScratchDb;
  let db: Db;
  const clock = new TestClock();
  const logs = new LogCapture();

  beforeEach(async () => {
    scratch = await openScratchDb();
    db = scratch.db;
  });

  afterEach(async () => {
    await scratch.close();
  });

  test('audit keeps every failure count', async () => {
    const audit = new AuthFailureAudit(db, new ClientStore(db, clock), clock, createLogger('info', logs));
    for (let i = 0; i < 300; i += 1) audit.record(`tgc_unknown_${i}`);

    void audit.flush(); // what the timer does
    await audit.stop();

    const [row] = await db('audit_events').where('action', 'client.authentication_failed').count({ n: '*' });
    expect(Number(row!.n)).toBe(300);
  });

  test('last-used runs no query after stop', async () => {
    const recorder = new LastUsedRecorder(db, clock, createLogger('info', logs));
    // More than one batch of 200, so the timer's write spans several transactions.
    for (let i = 0; i < 450; i += 1) recorder.record(`secret-${i}`);

    void recorder.flush();
    await recorder.stop();
    let later = 0;
    db.on('query', () => (later += 1));
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(later).toBe(0);
  });
});
