import { Agent, request } from 'node:http';

import { basic, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

describe('shutdown', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer();
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop().catch(() => undefined);
  });

  test('finishes a request in flight, then closes its keep-alive connection', async () => {
    const agent = new Agent({ keepAlive: true });
    const form = Buffer.from('grant_type=client_credentials&tenant=15');
    let closed = false;
    const response = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = request(
        `${server.url}/token`,
        {
          agent,
          method: 'POST',
          headers: { authorization: basic(demo.app1.client_id, demo.app1.client_secret), 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(form.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        },
      );
      req.on('error', reject);
      // Half the body now, the rest once shutdown has begun.
      req.write(form.subarray(0, 10));
      setTimeout(() => {
        closing = server.tg.close().then(() => {
          closed = true;
        });
        setTimeout(() => req.end(form.subarray(10)), 100);
      }, 100);
    });
    let closing: Promise<void> | undefined;

    const answered = await response;
    expect(answered).toEqual({ status: 200, connection: 'close' });
    const started = performance.now();
    await closing;
    // Otherwise close() waits for the idle connection's keep-alive timeout (5 s).
    expect(performance.now() - started).toBeLessThan(2000);
    expect(closed).toBe(true);
    agent.destroy();
  });

  test('waits for a background cache refresh', async () => {
    const other = await startServer();
    // A change schedules a refresh in the background; close() begins before its first query returns.
    other.tg.domain.onChange();
    await other.stop();
    // Before, the refresh lost its connection to the closing pool, and its next query waited 60 s
    // for a connection that never came, holding the process open after "stopped".
    expect(other.logs.lines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});
