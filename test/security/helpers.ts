import { connect } from 'node:net';

import { redisService } from '../support/instances.js';

export interface RawResponse {
  /** Status code of the first response line, or 0 when the server closed without a response. */
  status: number;
  head: string;
  body: string;
  /** Milliseconds from the first byte sent to the connection closing or the response ending. */
  ms: number;
}

/**
 * Sends bytes over a fresh TCP connection to the test server and reads until the server closes
 * the connection or `waitMs` passes. `{ pauseMs }` entries wait between writes. The client never
 * half-closes, so after the last write it stays connected as a slow or lying sender would.
 */
export function sendRaw(url: string, chunks: Array<Buffer | string | { pauseMs: number }>, waitMs: number): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`raw requests go to the loopback test server only, not ${hostname}`);

  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    const started = performance.now();
    let finished = false;

    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body, ms: performance.now() - started });
    };
    const timer = setTimeout(finish, waitMs);

    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? finish() : reject(err)));
    socket.on('connect', () => {
      void (async () => {
        for (const chunk of chunks) {
          if (finished) return;
          if (typeof chunk === 'object' && 'pauseMs' in chunk) await new Promise((done) => setTimeout(done, chunk.pauseMs));
          else socket.write(chunk);
        }
      })();
    });
  });
}

/** Runs `work` for every item with at most `concurrency` in flight; results keep the input order. */
export async function runPool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** POSTs a raw body with the given headers and returns status, headers and parsed JSON (or text). */
export async function postRaw(
  url: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown>; text: string }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { unparsed: text };
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The Redis for the Redis-backed rate-limit tests (REDIS_URL, else REDIS_TEST_URL); required under CI=true. */
export function redisUrlForTests(): string | undefined {
  return redisService();
}
