import { DEFAULT_REQUEST_LIMITS, serverOptions } from '../../src/http/request-limits.js';
import { basic, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { sendRaw } from './helpers.js';

// Short limits so the timeout cases finish in seconds; the production values are checked below.
const LIMITS = { headersTimeoutMs: 1500, requestTimeoutMs: 2000, timeoutCheckIntervalMs: 250 };
// Time the server may take beyond a timeout: one check interval plus scheduling on a busy machine.
const SLACK_MS = 1500;

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let authorization: string;

beforeAll(async () => {
  server = await startServer({ requestLimits: LIMITS });
  demo = await setUpDemo(server);
  authorization = basic(demo.app1.client_id, demo.app1.client_secret);
});

afterAll(async () => {
  await server.stop();
});

function head(method: string, path: string, headers: Record<string, string>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function jsonBody(text: string): unknown {
  return JSON.parse(text) as unknown;
}

describe('declared body size', () => {
  test('token endpoint rejects 9 KB at once', async () => {
    // Only the headers are sent, so the response must not wait for a body that never comes.
    const response = await sendRaw(server.url, [head('POST', '/token', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '9000', Authorization: authorization })], 5000);
    expect(response.status).toBe(413);
    expect(response.ms).toBeLessThan(1000);
    expect(jsonBody(response.body)).toEqual({ error: 'invalid_request', error_description: 'request body must be at most 8192 bytes' });
  });

  test('introspection rejects 17 KB at once', async () => {
    const response = await sendRaw(server.url, [head('POST', '/token/introspection', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '17000' })], 5000);
    expect(response.status).toBe(413);
    expect(response.ms).toBeLessThan(1000);
    expect(jsonBody(response.body)).toEqual({ error: 'invalid_request', error_description: 'request body must be at most 16384 bytes' });
  });

  test('other paths reject 3 MB at once', async () => {
    const response = await sendRaw(server.url, [head('POST', '/api/v1/groups', { 'Content-Type': 'application/json', 'Content-Length': String(3 * 1024 * 1024) })], 5000);
    expect(response.status).toBe(413);
    expect(response.ms).toBeLessThan(1000);
    expect(jsonBody(response.body)).toEqual({ code: 'request.too_large', message: 'request body must be at most 2097152 bytes' });
  });

  test('non-numeric Content-Length is 400', async () => {
    const response = await sendRaw(server.url, [head('POST', '/token', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '12abc' })], 5000);
    expect(response.status).toBe(400);
  });
});

describe('chunked bodies without Content-Length', () => {
  function chunked(path: string, size: number): Array<string | Buffer> {
    const body = `token=${'a'.repeat(size)}`;
    return [
      head('POST', path, { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked', Authorization: authorization, Connection: 'close' }),
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ];
  }

  test('introspection stops reading past 16 KB', async () => {
    const response = await sendRaw(server.url, chunked('/token/introspection', 20_000), 5000);
    expect(response.status).toBe(413);
    expect(response.ms).toBeLessThan(1000);
  });

  test('token endpoint rejects 100 KB with 400', async () => {
    // oidc-provider caps the bodies it reads itself at 56 KiB and responds 400.
    const response = await sendRaw(server.url, chunked('/token', 100_000), 5000);
    expect(response.status).toBe(400);
    expect(response.ms).toBeLessThan(1000);
    expect(jsonBody(response.body)).toMatchObject({ error: 'invalid_request' });
  });
});

describe('slow and lying senders', () => {
  test('Content-Length larger than the body gets 408', async () => {
    const response = await sendRaw(
      server.url,
      [head('POST', '/token', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '100', Authorization: authorization }), 'grant_type'],
      LIMITS.requestTimeoutMs + SLACK_MS + 3000,
    );
    expect(response.status).toBe(408);
    expect(response.ms).toBeLessThan(LIMITS.requestTimeoutMs + SLACK_MS);
  });

  test('headers sent byte by byte get 408', async () => {
    const text = head('GET', '/healthz', { 'X-Padding': 'a'.repeat(40) });
    const trickle = [...text].flatMap((character) => [character, { pauseMs: 100 }]);
    const response = await sendRaw(server.url, trickle, LIMITS.headersTimeoutMs + SLACK_MS + 3000);
    expect(response.status).toBe(408);
    expect(response.ms).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
  });

  test('idle connection with no request is closed', async () => {
    const response = await sendRaw(server.url, [], LIMITS.headersTimeoutMs + SLACK_MS + 3000);
    expect(response.ms).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
  });

  test('server still serves after slow senders', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
  });
});

describe('request line and header size', () => {
  test('URL of 5000 characters gets 414', async () => {
    const response = await fetch(`${server.url}/token?${'a'.repeat(5000)}`, { method: 'POST' });
    expect(response.status).toBe(414);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'request target must be at most 4096 characters' });
  });

  test('headers over 16 KiB get 431', async () => {
    const response = await sendRaw(server.url, [head('GET', '/healthz', { 'X-Big': 'a'.repeat(17 * 1024) })], 5000);
    expect(response.status).toBe(431);
  });

  test('Basic header of 15 KiB is an RFC error', async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${'QUFB'.repeat(3800)}` },
      body: 'grant_type=client_credentials&tenant=1',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/^invalid_(request|client)$/) });
  });
});

describe('production request limits', () => {
  test('cut slow senders off within seconds', () => {
    const options = serverOptions(DEFAULT_REQUEST_LIMITS);
    expect(options.headersTimeout).toBeLessThanOrEqual(10_000);
    expect(options.requestTimeout).toBeLessThanOrEqual(15_000);
    expect(options.connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
    expect(options.maxHeaderSize).toBe(16 * 1024);
  });
});
