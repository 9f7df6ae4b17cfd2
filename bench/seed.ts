import { randomUUID } from 'node:crypto';

import { buildDemo } from '../src/cli/demo.js';
import { loadConfig } from '../src/config.js';
import { assignRoles, createRole, createUser, redeemSignInLink } from '../src/domain/accounts.js';
import { setAppTokenRateLimit, TOKEN_BURST_MAX, TOKEN_RATE_MAX } from '../src/domain/app-rate-limits.js';
import { generateClientId, generateClientSecret, hashClientSecret } from '../src/crypto/client-secret.js';
import { systemClock } from '../src/domain/types.js';
import type { DomainContext } from '../src/domain/context.js';
import { createDomainContext } from '../src/runtime.js';
import { migrateLatest, openDb, type Db } from '../src/storage/db.js';

/** One set of credentials and the tenants its token requests name. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  tenants: string[];
}

/** A hub administrator of the large network and its group of every tenant, for the page timings. */
export interface HubAccount {
  email: string;
  password: string;
  bigGroupId: string;
}

export interface SeededData {
  audience: string;
  /** Space-separated scopes every seeded connection has consented to and every request names. */
  scope: string;
  clients: ClientCredentials[];
  /** The example customer's App 1, also present beside a large network. */
  exampleClients: ClientCredentials[];
  hub?: HubAccount;
}

export interface LargeNetworkSize {
  tenants: number;
  groups: number;
  /** Tenants in each group; group i contains a contiguous run of tenants, so groups never repeat. */
  tenantsPerGroup: number;
  /** Tenants of one more, unconnected group whose hub pages are timed. */
  bigGroupTenants: number;
}

const HUB_PASSWORD = 'bench hub administrator password';
const BIG_GROUP_ID = 'bg-big';

// Rows per INSERT: below SQLite's limit of 32,766 bound variables for the widest table here.
const INSERT_CHUNK = 500;

/**
 * Builds the example customer through the domain services (the same code as `tenantgate demo`)
 * and returns App 1's credentials. App 1 is the connection whose tenants the benchmark requests.
 */
async function seedExample(env: Record<string, string>): Promise<{ db: Db; domain: DomainContext; data: Omit<SeededData, 'exampleClients'>; appId: string; consentScopes: string }> {
  const config = loadConfig(env);
  const db = openDb(config.databaseUrl);
  await migrateLatest(db);
  const domain = createDomainContext(config, db, systemClock, () => undefined);
  const demo = await buildDemo(domain, { id: 'bench' }, config.issuer);
  const app1 = demo.connections.find((connection) => connection.app === 'App 1');
  if (!app1) throw new Error('the example customer has no App 1 connection');

  // The default per-client limit (50 requests per second) would measure the rate limiter, not
  // the token path. An operator raises it this way for a high-volume app.
  for (const connection of demo.connections) {
    const { app_id: appId } = (await db('connections').where('id', connection.connection_id).first('app_id')) as { app_id: string };
    await setAppTokenRateLimit(domain, { id: 'bench' }, appId, { rate: TOKEN_RATE_MAX, burst: TOKEN_BURST_MAX });
  }

  const consent = await db('consents').join('connections', 'connections.consent_id', 'consents.id').where('connections.id', app1.connection_id).first('consents.scopes', 'connections.app_id');
  const scopes = JSON.parse(consent.scopes as string) as { api_id: string; scope: string }[];
  return {
    db,
    domain,
    appId: consent.app_id as string,
    consentScopes: consent.scopes as string,
    data: {
      audience: demo.api.audience,
      scope: scopes.map((s) => s.scope).join(' '),
      clients: [{ clientId: app1.client_id, clientSecret: app1.client_secret, tenants: app1.tenants }],
    },
  };
}

/**
 * Adds a large network beside the example customer with bulk inserts: tenants, groups, one
 * connection per group (all to App 1, with App 1's consent) and one secret per connection.
 * The server reads these rows exactly as it reads rows written by the domain services.
 */
async function seedLargeNetwork(db: Db, secretKey: Buffer, appId: string, consentScopes: string, size: LargeNetworkSize): Promise<{ networkId: string; clients: ClientCredentials[] }> {
  const now = Date.now();
  const networkId = `bench-large-${randomUUID().slice(0, 8)}`;
  const tenantId = (i: number) => `L${String(i).padStart(7, '0')}`;
  const clients: ClientCredentials[] = [];

  await db.transaction(async (trx) => {
    await trx('networks').insert({ id: networkId, name: 'Benchmark Large Network', created_at: now, updated_at: now });
    await trx.batchInsert(
      'tenants',
      Array.from({ length: size.tenants }, (_, i) => ({ tenant_id: tenantId(i), network_id: networkId, created_at: now })),
      INSERT_CHUNK,
    );

    const groups = [];
    const memberships = [];
    const connections = [];
    const consents = [];
    const secrets = [];
    for (let g = 0; g < size.groups; g += 1) {
      const groupId = `bg-${g}`;
      const connectionId = `bc-${g}`;
      const consentId = `bk-${g}`;
      const clientId = generateClientId();
      const clientSecret = generateClientSecret();
      const tenants = Array.from({ length: size.tenantsPerGroup }, (_, k) => tenantId((g * size.tenantsPerGroup + k) % size.tenants));

      groups.push({ id: groupId, network_id: networkId, name: `Group ${g}`, created_at: now, updated_at: now });
      for (const tenant of tenants) memberships.push({ network_id: networkId, group_id: groupId, tenant_id: tenant });
      connections.push({ id: connectionId, network_id: networkId, group_id: groupId, app_id: appId, client_id: clientId, status: 'active', consent_id: consentId, created_at: now, updated_at: now });
      consents.push({ id: consentId, network_id: networkId, connection_id: connectionId, approved_by: 'bench@example.com', approved_at: now, scopes: consentScopes, terms_version: 1 });
      secrets.push({
        id: `bs-${g}`,
        network_id: networkId,
        connection_id: connectionId,
        secret_hash: hashClientSecret(secretKey, clientSecret),
        hint: clientSecret.slice(-4),
        created_by: 'bench@example.com',
        created_at: now,
        expires_at: null,
        revoked_at: null,
        last_used_at: null,
      });
      clients.push({ clientId, clientSecret, tenants });
    }

    groups.push({ id: BIG_GROUP_ID, network_id: networkId, name: 'Every tenant', created_at: now, updated_at: now });
    for (let i = 0; i < Math.min(size.bigGroupTenants, size.tenants); i += 1) memberships.push({ network_id: networkId, group_id: BIG_GROUP_ID, tenant_id: tenantId(i) });

    await trx.batchInsert('groups', groups, INSERT_CHUNK);
    await trx.batchInsert('group_tenants', memberships, INSERT_CHUNK);
    await trx.batchInsert('connections', connections, INSERT_CHUNK);
    await trx.batchInsert('consents', consents, INSERT_CHUNK);
    await trx.batchInsert('client_secrets', secrets, INSERT_CHUNK);
    await trx('cache_epoch').where('id', 1).increment('value', 1);
  });
  return { networkId, clients };
}

/** Creates a hub administrator of the network through the account services, with a password set. */
async function seedHubAdministrator(domain: DomainContext, networkId: string): Promise<HubAccount> {
  const actor = { id: 'bench' };
  const email = 'admin@large.example';
  const { user, link } = await createUser(domain, actor, { networkId, email });
  await redeemSignInLink(domain, new URL(link.path, 'http://link.invalid').searchParams.get('token') ?? '', HUB_PASSWORD);
  const role = await createRole(domain, actor, networkId, { name: 'Integrations', permissions: ['integrations.view', 'integrations.manage'] });
  await assignRoles(domain, actor, networkId, user.id, [role.id]);
  return { email, password: HUB_PASSWORD, bigGroupId: BIG_GROUP_ID };
}

/**
 * Seeds a database for one scenario: the example customer always, plus the large network when
 * `large` is given, in which case the returned clients are the large network's.
 */
export async function seedDatabase(env: Record<string, string>, large?: LargeNetworkSize): Promise<SeededData> {
  const example = await seedExample(env);
  try {
    if (!large) return { ...example.data, exampleClients: example.data.clients };
    const { networkId, clients } = await seedLargeNetwork(example.db, example.domain.keys.secretHash, example.appId, example.consentScopes, large);
    const hub = await seedHubAdministrator(example.domain, networkId);
    return { ...example.data, clients, exampleClients: example.data.clients, hub };
  } finally {
    await example.db.destroy();
  }
}
