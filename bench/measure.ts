import autocannon from 'autocannon';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import type { LoadResult } from './load.js';

export interface IssuedToken {
  token: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

function decodePart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Requests one token and fails loudly on anything but a 200 with a JWT. */
export async function issueToken(url: string, request: { headers: Record<string, string>; body: string }): Promise<IssuedToken> {
  const response = await fetch(`${url}/token`, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`token request to ${url} failed with ${response.status}: ${text}`);
  const token = (JSON.parse(text) as { access_token: string }).access_token;
  return { token, header: decodeProtectedHeader(token) as Record<string, unknown>, claims: decodePart(token, 1) };
}

/**
 * Checks that both servers issue the same kind of JWT: same header `typ` and `alg`, the same set
 * of claim names and the same lifetime. A baseline that signs something else is no baseline.
 */
export function assertSameTokenShape(tenantgate: IssuedToken, baseline: IssuedToken): void {
  const problems: string[] = [];
  for (const field of ['typ', 'alg'] as const) {
    if (tenantgate.header[field] !== baseline.header[field]) problems.push(`header ${field}: ${String(tenantgate.header[field])} vs ${String(baseline.header[field])}`);
  }
  const names = (claims: Record<string, unknown>) => Object.keys(claims).sort().join(',');
  if (names(tenantgate.claims) !== names(baseline.claims)) problems.push(`claims: ${names(tenantgate.claims)} vs ${names(baseline.claims)}`);
  const lifetime = (claims: Record<string, unknown>) => Number(claims.exp) - Number(claims.iat);
  if (lifetime(tenantgate.claims) !== lifetime(baseline.claims)) problems.push(`lifetime: ${lifetime(tenantgate.claims)} s vs ${lifetime(baseline.claims)} s`);
  if (tenantgate.claims.scope !== baseline.claims.scope) problems.push(`scope: ${String(tenantgate.claims.scope)} vs ${String(baseline.claims.scope)}`);
  if (problems.length > 0) throw new Error(`the baseline's token differs from tenantgate's: ${problems.join('; ')}`);
}

/**
 * Measures what a resource server can verify per second with jose: signature against the remote
 * JWKS (fetched once, then cached by jose), `typ`, `iss`, `aud` and `exp`. Runs in the bench
 * process, one verification at a time, on tokens issued beforehand.
 */
export async function verificationThroughput(url: string, tokens: IssuedToken[], seconds: number): Promise<{ opsPerSecond: number; verified: number }> {
  const jwks = createRemoteJWKSet(new URL(`${url}/jwks`));
  const first = tokens[0]!;
  const options = { issuer: String(first.claims.iss), audience: String(first.claims.aud), typ: 'at+jwt', algorithms: [String(first.header.alg)] };
  await jwtVerify(first.token, jwks, options);

  let verified = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 50; i += 1) {
      await jwtVerify(tokens[verified % tokens.length]!.token, jwks, options);
      verified += 1;
    }
  }
  return { opsPerSecond: verified / ((performance.now() - started) / 1000), verified };
}

/** Drives RFC 7662 introspection of one token by the client that owns it. */
export async function introspectionThroughput(
  url: string,
  token: string,
  authorization: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}/token/introspection`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
  });
  return {
    rps: result.requests.total / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest: Number.NaN,
  };
}
