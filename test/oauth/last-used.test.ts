import { listSecrets } from '../../src/domain/secrets.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

describe('last-used time of a client secret', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer();
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  async function useSecretAndFlush(): Promise<number | null> {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    expect(response.status).toBe(200);
    await server.tg.flushBackgroundWork();
    const [secret] = await listSecrets(server.tg.db, demo.network.id, demo.app1.connection_id);
    return secret!.lastUsedAt;
  }

  test('first use is written', async () => {
    expect(await useSecretAndFlush()).not.toBeNull();
  });

  test('use within a minute keeps the stored time', async () => {
    const first = await useSecretAndFlush();
    server.clock.advance(30);

    expect(await useSecretAndFlush()).toBe(first);
  });

  test('use a minute later writes the new time', async () => {
    const first = await useSecretAndFlush();
    server.clock.advance(61);
    const second = await useSecretAndFlush();

    expect(second).not.toBeNull();
    expect(second!).toBeGreaterThanOrEqual(first! + 60_000);
  });
});
