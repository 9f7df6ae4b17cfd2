import type { Knex } from 'knex';

import type { Connection, ConnectionStatus, Consent, ConsentedScope } from '../domain/types.js';

type ConnectionRow = {
  id: string;
  network_id: string;
  group_id: string;
  app_id: string;
  client_id: string;
  status: ConnectionStatus;
  consent_id: string | null;
  created_at: number;
};

type ConsentRow = { id: string; approved_by: string; approved_at: number; scopes: string; terms_version: number };

const toConsent = (row: ConsentRow): Consent => ({
  id: row.id,
  approvedBy: row.approved_by,
  approvedAt: Number(row.approved_at),
  scopes: JSON.parse(row.scopes) as ConsentedScope[],
  termsVersion: Number(row.terms_version),
});

async function withConsents(db: Knex | Knex.Transaction, rows: ConnectionRow[]): Promise<Connection[]> {
  const consentIds = rows.map((row) => row.consent_id).filter((id): id is string => id !== null);
  const consents = new Map<string, Consent>();
  if (consentIds.length > 0) {
    for (const row of await db<ConsentRow>('consents').whereIn('id', consentIds)) consents.set(row.id, toConsent(row));
  }
  return rows.map((row) => ({
    id: row.id,
    networkId: row.network_id,
    groupId: row.group_id,
    appId: row.app_id,
    clientId: row.client_id,
    status: row.status,
    consent: row.consent_id ? (consents.get(row.consent_id) ?? null) : null,
    createdAt: Number(row.created_at),
  }));
}

export async function insertConnection(
  db: Knex | Knex.Transaction,
  connection: { id: string; networkId: string; groupId: string; appId: string; clientId: string; now: number },
): Promise<void> {
  await db('connections').insert({
    id: connection.id,
    network_id: connection.networkId,
    group_id: connection.groupId,
    app_id: connection.appId,
    client_id: connection.clientId,
    status: 'active',
    consent_id: null,
    created_at: connection.now,
    updated_at: connection.now,
  });
}

export async function insertConsent(
  db: Knex | Knex.Transaction,
  consent: { id: string; networkId: string; connectionId: string; approvedBy: string; approvedAt: number; scopes: ConsentedScope[]; termsVersion: number },
): Promise<void> {
  await db('consents').insert({
    id: consent.id,
    network_id: consent.networkId,
    connection_id: consent.connectionId,
    approved_by: consent.approvedBy,
    approved_at: consent.approvedAt,
    scopes: JSON.stringify(consent.scopes),
    terms_version: consent.termsVersion,
  });
  await db('connections').where({ network_id: consent.networkId, id: consent.connectionId }).update({ consent_id: consent.id, updated_at: consent.approvedAt });
}

export async function getConnection(db: Knex | Knex.Transaction, networkId: string, id: string): Promise<Connection | undefined> {
  const row = await db<ConnectionRow>('connections').where({ network_id: networkId, id }).first();
  return row ? (await withConsents(db, [row]))[0] : undefined;
}

/** Locks the connection row until the transaction ends (Postgres; SQLite serialises writers anyway). */
export async function lockConnection(trx: Knex.Transaction, networkId: string, id: string): Promise<Connection | undefined> {
  const row = await trx<ConnectionRow>('connections').where({ network_id: networkId, id }).forUpdate().first();
  return row ? (await withConsents(trx, [row]))[0] : undefined;
}

export async function findLiveConnection(db: Knex | Knex.Transaction, networkId: string, groupId: string, appId: string): Promise<Connection | undefined> {
  const row = await db<ConnectionRow>('connections')
    .where({ network_id: networkId, group_id: groupId, app_id: appId })
    .whereNot('status', 'disconnected')
    .first();
  return row ? (await withConsents(db, [row]))[0] : undefined;
}

export async function listConnections(
  db: Knex | Knex.Transaction,
  networkId: string,
  options: { groupId?: string; includeDisconnected?: boolean } = {},
): Promise<Connection[]> {
  const query = db<ConnectionRow>('connections').where('network_id', networkId).orderBy('created_at');
  if (options.groupId !== undefined) query.where('group_id', options.groupId);
  if (!options.includeDisconnected) query.whereNot('status', 'disconnected');
  return withConsents(db, await query);
}

export async function setConnectionStatus(
  db: Knex | Knex.Transaction,
  networkId: string,
  ids: readonly string[],
  status: ConnectionStatus,
  now: number,
): Promise<void> {
  if (ids.length === 0) return;
  await db('connections').where('network_id', networkId).whereIn('id', ids).update({ status, updated_at: now });
}

export interface ClientRecord {
  connectionId: string;
  networkId: string;
  groupId: string;
  appId: string;
  clientId: string;
  status: ConnectionStatus;
  tokenTtl: number;
  /** Operator-set token requests per second of the app; null means the server default. */
  tokenRateLimit: number | null;
  /** Operator-set token bucket size of the app; null means the server default. */
  tokenBurstLimit: number | null;
  consent: Consent | null;
}

/**
 * Looks a connection up by its client ID for client authentication. This is the one lookup not
 * scoped by network: the client ID is the credential that establishes the network.
 */
export async function findClientRecord(db: Knex, clientId: string): Promise<ClientRecord | undefined> {
  const row = await db('connections')
    .join('apps', 'apps.id', 'connections.app_id')
    .leftJoin('consents', 'consents.id', 'connections.consent_id')
    .where('connections.client_id', clientId)
    .first<
      | (ConnectionRow & {
          token_ttl: number;
          token_rate_limit: number | null;
          token_burst_limit: number | null;
          c_id: string | null;
          approved_by: string | null;
          approved_at: number | null;
          scopes: string | null;
          terms_version: number | null;
        })
      | undefined
    >(
      'connections.*',
      'apps.token_ttl',
      'apps.token_rate_limit',
      'apps.token_burst_limit',
      'consents.id as c_id',
      'consents.approved_by',
      'consents.approved_at',
      'consents.scopes',
      'consents.terms_version',
    );
  if (!row) return undefined;
  return {
    connectionId: row.id,
    networkId: row.network_id,
    groupId: row.group_id,
    appId: row.app_id,
    clientId: row.client_id,
    status: row.status,
    tokenTtl: Number(row.token_ttl),
    tokenRateLimit: row.token_rate_limit === null ? null : Number(row.token_rate_limit),
    tokenBurstLimit: row.token_burst_limit === null ? null : Number(row.token_burst_limit),
    consent:
      row.c_id === null
        ? null
        : toConsent({
            id: row.c_id,
            approved_by: row.approved_by ?? '',
            approved_at: Number(row.approved_at),
            scopes: row.scopes ?? '[]',
            terms_version: Number(row.terms_version),
          }),
  };
}

/** Returns the network of a connection, for operator tools that act across networks. */
export async function findConnectionNetwork(db: Knex, connectionId: string): Promise<string | undefined> {
  const row = (await db('connections').where('id', connectionId).first('network_id')) as { network_id: string } | undefined;
  return row?.network_id;
}
