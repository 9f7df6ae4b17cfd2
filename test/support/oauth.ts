import { buildDemo, type DemoOutput } from '../../src/cli/demo.js';
import type { TestServer } from './server.js';

export interface TokenResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}

/** POSTs a form to an endpoint; `params` may repeat a name by passing an array. */
export async function postForm(
  url: string,
  params: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<TokenResponse> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(key, item);
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body.toString(),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Requests a token with client_secret_basic. */
export function requestToken(server: { url: string }, clientId: string, secret: string, params: Record<string, string | string[]>): Promise<TokenResponse> {
  return postForm(`${server.url}/token`, { grant_type: 'client_credentials', ...params }, { authorization: basic(clientId, secret) });
}

export async function setUpDemo(server: TestServer): Promise<DemoOutput & { app1: DemoOutput['connections'][number]; app2: DemoOutput['connections'][number] }> {
  const demo = await buildDemo(server.tg.domain, { id: 'test' }, server.url);
  const [app1, app2] = demo.connections;
  if (!app1 || !app2) throw new Error('demo did not create two connections');
  return { ...demo, app1, app2 };
}

export function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split('.')[index];
  if (part === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
