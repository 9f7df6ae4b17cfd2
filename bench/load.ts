import autocannon from 'autocannon';

import type { ClientCredentials } from './seed.js';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses other than 2xx plus socket errors and timeouts; a valid run has none. */
  failures: number;
  /** Server CPU time (all threads, user and system) per completed request, microseconds. */
  cpuMicrosPerRequest: number;
}

/** A prepared HTTP request: autocannon sends these in turn, one per request. */
export interface PreparedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/**
 * Builds token requests that cycle through every (client, tenant) pair, up to `limit` pairs,
 * spreading load over many clients and tenants. Credentials go in the Authorization header
 * (client_secret_basic, the default method of both servers).
 */
export function tokenRequests(clients: ClientCredentials[], scope: string, limit: number): PreparedRequest[] {
  const requests: PreparedRequest[] = [];
  const maxTenants = Math.max(...clients.map((client) => client.tenants.length));
  for (let t = 0; t < maxTenants && requests.length < limit; t += 1) {
    for (const client of clients) {
      const tenant = client.tenants[t];
      if (tenant === undefined) continue;
      requests.push({
        method: 'POST',
        path: '/token',
        headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', tenant, scope }).toString(),
      });
      if (requests.length >= limit) break;
    }
  }
  return requests;
}

/**
 * Drives `url` with `connections` keep-alive connections for `seconds`, cycling through
 * `requests`; `cpuSeconds` reads the server process's CPU time before and after.
 */
export async function drive(url: string, requests: PreparedRequest[], connections: number, seconds: number, cpuSeconds: () => number): Promise<LoadResult> {
  let next = 0;
  const cpuBefore = cpuSeconds();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    requests: [
      {
        setupRequest(request) {
          const prepared = requests[next]!;
          next = (next + 1) % requests.length;
          return { ...request, ...prepared };
        },
      },
    ],
  });
  return {
    rps: result.requests.total / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest: ((cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, result.requests.total),
  };
}

// Requests sent to warm a server up when there are fewer prepared ones: enough for the JIT to
// compile the hot path before measurement starts.
const WARM_UP_MIN_REQUESTS = 2_000;

/** Sends `amount` requests (by default every prepared request at least once), with `connections` in parallel, so caches are warm. */
export async function warmUp(url: string, requests: PreparedRequest[], connections: number, amount = Math.max(requests.length, WARM_UP_MIN_REQUESTS)): Promise<number> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    amount,
    requests: [
      {
        setupRequest(request) {
          const prepared = requests[next % requests.length]!;
          next += 1;
          return { ...request, ...prepared };
        },
      },
    ],
  });
  return result.non2xx + result.errors + result.timeouts;
}
