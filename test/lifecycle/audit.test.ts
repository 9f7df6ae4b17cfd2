import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { exportAuditEvents, listAuditEvents } from '../../src/storage/audit.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
});

afterAll(async () => {
  await server.stop();
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('audit log', () => {
  test('the database refuses to update or delete an event', async () => {
    const [first] = await exportAuditEvents(server.tg.db);
    expect(first).toBeDefined();
    await expect(server.tg.db('audit_events').where('id', first!.id).update({ action: 'rewritten' })).rejects.toThrow(/append-only/);
    await expect(server.tg.db('audit_events').where('id', first!.id).delete()).rejects.toThrow(/append-only/);
    const [again] = await exportAuditEvents(server.tg.db);
    expect(again).toEqual(first);
  });

  test('no code path updates or deletes audit events', () => {
    const offenders = sourceFiles('src').filter((file) => {
      const text = readFileSync(file, 'utf8');
      return /audit_events['"`]\)[\s\S]{0,200}?\.(update|delete|del|truncate)\(/.test(text) || /(update|delete\s+from)\s+audit_events/i.test(text);
    });
    expect(offenders).toEqual([]);
  });

  test("the example customer's setup reads as a complete, ordered story", async () => {
    const events = await exportAuditEvents(server.tg.db, demo.network.id);
    const story = events.map((e) => `${e.action} ${e.targetType}`);
    expect(story).toEqual([
      'network.created network',
      'tenants.added network',
      'group.created group',
      'terms.accepted app',
      'consent.granted connection',
      'connection.created connection',
      'secret.generated connection',
      'group.created group',
      'terms.accepted app',
      'consent.granted connection',
      'connection.created connection',
      'secret.generated connection',
    ]);
    for (const event of events) {
      expect(event.actor).toBe('test');
      expect(event.outcome).toBe('success');
      expect(event.networkId).toBe(demo.network.id);
      expect(event.occurredAt).toBeGreaterThan(0);
    }
    const ids = events.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const consent = events.find((e) => e.action === 'consent.granted')!;
    expect(consent.details).toMatchObject({ approved_by: 'admin@goodplumbing.example', terms_version: 1 });
  });

  test('failed client authentications become one event per client per window, with the count', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await requestToken(server, demo.app2.client_id, `wrong-${i}`, { tenant: '1' })).status).toBe(401);
    }
    expect((await requestToken(server, 'tgc_unknownclientid', 'whatever', { tenant: '1' })).status).toBe(401);
    await server.tg.flushBackgroundWork();

    const known = await listAuditEvents(server.tg.db, demo.network.id, { action: 'client.authentication_failed' });
    expect(known).toHaveLength(1);
    expect(known[0]!.targetId).toBe(demo.app2.client_id);
    expect(known[0]!.details).toMatchObject({ count: 3, known_client: true });

    const unknown = (await exportAuditEvents(server.tg.db)).filter((e) => e.action === 'client.authentication_failed' && e.networkId === null);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.details).toMatchObject({ count: 1, known_client: false });
    expect(JSON.stringify(unknown)).not.toContain('whatever');
  });
});
