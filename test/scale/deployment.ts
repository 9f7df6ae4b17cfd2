import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

import type { DemoOutput } from '../../src/cli/demo.js';
import { loadConfig } from '../../src/config.js';
import { createRole, createUser } from '../../src/domain/accounts.js';
import { createAdminApiKey } from '../../src/domain/admin-api-keys.js';
import { systemClock } from '../../src/domain/types.js';
import { createDomainContext } from '../../src/runtime.js';
import { openDb } from '../../src/storage/db.js';
import { runCliJson } from '../support/cli.js';
import { createPostgresDatabase } from '../support/database.js';
import { deploymentEnv, Instance } from '../support/instances.js';
import { requestToken, type TokenResponse } from '../support/oauth.js';

// Every instance of a deployment signs with this issuer, as behind one load balancer.
export const ISSUER = 'https://auth.tenantgate.test';

export interface Deployment {
  env: Record<string, string>;
  instances: Instance[];
  demo: DemoOutput;
  drop(): Promise<void>;
}

/**
 * Starts `count` instances together on an empty Postgres database (they race through migrations
 * and first-run key generation), then builds the example customer with the CLI.
 */
export async function startDeployment(services: { postgresUrl: string; redisUrl: string }, count: number, overrides: (index: number) => Record<string, string> = () => ({})): Promise<Deployment> {
  const database = await createPostgresDatabase(services.postgresUrl);
  const env = { ...deploymentEnv(database.url, services.redisUrl), ISSUER };
  const instances = await Promise.all(Array.from({ length: count }, (_, index) => Instance.start(String.fromCharCode(65 + index), { ...env, ...overrides(index) })));
  const demo = await runCliJson<DemoOutput>(['demo'], env);
  return {
    env,
    instances,
    demo,
    async drop() {
      await Promise.all(instances.map((instance) => instance.kill('SIGKILL')));
      await database.drop();
    },
  };
}

export async function fetchJwks(instance: Instance): Promise<JSONWebKeySet> {
  const response = await fetch(`${instance.url}/jwks`);
  if (response.status !== 200) throw new Error(`GET /jwks on ${instance.name} returned ${response.status}`);
  return (await response.json()) as JSONWebKeySet;
}

/** Verifies an access token as a resource server would, against one instance's current JWKS. */
export async function verifyAgainst(instance: Instance, token: string, audience: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(await fetchJwks(instance)), { issuer: ISSUER, audience, typ: 'at+jwt' });
  return payload;
}

export function tokenFrom(instance: Instance, connection: DemoOutput['connections'][number], tenant: string): Promise<TokenResponse> {
  return requestToken(instance, connection.client_id, connection.client_secret, { tenant });
}

/**
 * Creates a user with API & Integrations View and Manage in a network and an admin API key
 * acting as that user, written straight to the deployment's database with its DATA_KEY.
 */
export async function createManagerKey(env: Record<string, string>, networkId: string): Promise<string> {
  const config = loadConfig(env);
  const db = openDb(config.databaseUrl);
  try {
    const ctx = createDomainContext(config, db, systemClock, () => undefined);
    const actor = { id: 'test' };
    const email = `manager-${Date.now()}@scale.example`;
    const role = await createRole(ctx, actor, networkId, { name: `Integrations ${email}`, permissions: ['integrations.view', 'integrations.manage'] });
    await createUser(ctx, actor, { networkId, email, roleIds: [role.id] });
    return (await createAdminApiKey(ctx, actor, { email, name: 'scale test' })).key;
  } finally {
    await db.destroy();
  }
}

/** Calls the admin JSON API of one instance with a bearer key. */
export async function adminApi(instance: Instance, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${instance.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
