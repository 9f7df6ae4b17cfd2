import { connect } from 'node:net';

import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.stop();
});

/** Sends headers and half a body, then closes the connection. */
async function abortMidBody(path: string): Promise<void> {
  const { port } = new URL(server.url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=abc`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
    socket.on('error', reject);
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
}

describe('a client that vanishes mid-body', () => {
  test.each(['/token/introspection', '/token/revocation', '/signin'])('on %s is not logged as a server error', async (path) => {
    const before = server.logs.lines.length;
    await abortMidBody(path);
    const lines = server.logs.lines.slice(before).map((line) => JSON.parse(line) as { level: number; msg: string; status?: number });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.some((line) => line.status === 500)).toBe(false);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
