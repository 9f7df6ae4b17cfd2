import type { Knex } from 'knex';

import type { App, AppScope } from '../domain/types.js';

// Apps belong to developer organisations, not to networks: every network may see a published
// app, and the network boundary applies to the connections made to it.

type AppRow = {
  id: string;
  org_id: string | null;
  name: string;
  developer_name: string;
  description: string;
  homepage_url: string | null;
  logo_url: string | null;
  published: boolean | number;
  token_ttl: number;
  terms_version: number;
};

export interface AppInput {
  id: string;
  orgId: string | null;
  name: string;
  developerName: string;
  description: string;
  homepageUrl: string | null;
  logoUrl: string | null;
  published: boolean;
  tokenTtl: number;
  terms: string;
  scopes: { apiId: string; scope: string; reason: string }[];
  now: number;
}

export async function insertApp(db: Knex | Knex.Transaction, app: AppInput): Promise<void> {
  await db('apps').insert({
    id: app.id,
    org_id: app.orgId,
    name: app.name,
    developer_name: app.developerName,
    description: app.description,
    homepage_url: app.homepageUrl,
    logo_url: app.logoUrl,
    published: app.published,
    token_ttl: app.tokenTtl,
    terms_version: 1,
    created_at: app.now,
    updated_at: app.now,
  });
  await db('app_terms').insert({ app_id: app.id, version: 1, text: app.terms, created_at: app.now });
  await db('app_scopes').insert(app.scopes.map((s) => ({ app_id: app.id, api_id: s.apiId, scope: s.scope, reason: s.reason })));
}

async function scopesOf(db: Knex | Knex.Transaction, appIds: string[]): Promise<Map<string, AppScope[]>> {
  const rows = await db('app_scopes')
    .join('apis', 'apis.id', 'app_scopes.api_id')
    .whereIn('app_scopes.app_id', appIds)
    .orderBy(['app_scopes.app_id', 'apis.audience', 'app_scopes.scope'])
    .select<{ app_id: string; api_id: string; audience: string; scope: string; reason: string }[]>(
      'app_scopes.app_id',
      'app_scopes.api_id',
      'apis.audience',
      'app_scopes.scope',
      'app_scopes.reason',
    );
  const byApp = new Map<string, AppScope[]>();
  for (const row of rows) {
    const list = byApp.get(row.app_id) ?? [];
    list.push({ apiId: row.api_id, audience: row.audience, scope: row.scope, reason: row.reason });
    byApp.set(row.app_id, list);
  }
  return byApp;
}

async function toApps(db: Knex | Knex.Transaction, rows: AppRow[]): Promise<App[]> {
  const scopes = await scopesOf(db, rows.map((row) => row.id));
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    developerName: row.developer_name,
    description: row.description,
    homepageUrl: row.homepage_url,
    logoUrl: row.logo_url,
    published: Boolean(row.published),
    tokenTtl: Number(row.token_ttl),
    termsVersion: Number(row.terms_version),
    scopes: scopes.get(row.id) ?? [],
  }));
}

export async function getApp(db: Knex | Knex.Transaction, id: string): Promise<App | undefined> {
  const row = await db<AppRow>('apps').where('id', id).first();
  return row ? (await toApps(db, [row]))[0] : undefined;
}

export async function findAppByName(db: Knex | Knex.Transaction, name: string): Promise<App | undefined> {
  const row = await db<AppRow>('apps').where('name', name).orderBy('created_at').first();
  return row ? (await toApps(db, [row]))[0] : undefined;
}

export async function listApps(db: Knex | Knex.Transaction, options: { publishedOnly?: boolean; orgId?: string } = {}): Promise<App[]> {
  const query = db<AppRow>('apps').orderBy('name');
  if (options.publishedOnly) query.where('published', true);
  if (options.orgId !== undefined) query.where('org_id', options.orgId);
  return toApps(db, await query);
}

export async function getTerms(db: Knex | Knex.Transaction, appId: string, version: number): Promise<string | undefined> {
  const row = await db('app_terms').where({ app_id: appId, version }).first<{ text: string } | undefined>('text');
  return row?.text;
}

/** Reads an app only when it belongs to the given developer organisation. */
export async function getAppOfOrg(db: Knex | Knex.Transaction, orgId: string, id: string): Promise<App | undefined> {
  const row = await db<AppRow>('apps').where({ org_id: orgId, id }).first();
  return row ? (await toApps(db, [row]))[0] : undefined;
}

/** Locks an app row until the transaction ends (Postgres; SQLite serialises writers anyway). */
export async function lockApp(trx: Knex.Transaction, id: string): Promise<App | undefined> {
  const row = await trx<AppRow>('apps').where('id', id).forUpdate().first();
  return row ? (await toApps(trx, [row]))[0] : undefined;
}

export interface AppDetailsUpdate {
  name: string;
  description: string;
  homepageUrl: string | null;
  logoUrl: string | null;
  tokenTtl: number;
}

export async function updateAppDetails(db: Knex | Knex.Transaction, id: string, details: AppDetailsUpdate, now: number): Promise<void> {
  await db('apps').where('id', id).update({
    name: details.name,
    description: details.description,
    homepage_url: details.homepageUrl,
    logo_url: details.logoUrl,
    token_ttl: details.tokenTtl,
    updated_at: now,
  });
}

/** Stores terms as the next version and makes it the app's current one; returns that version. */
export async function addTermsVersion(db: Knex | Knex.Transaction, id: string, text: string, now: number): Promise<number> {
  const row = await db('app_terms').where('app_id', id).max({ latest: 'version' }).first<{ latest: number | string | null }>();
  const version = Number(row?.latest ?? 0) + 1;
  await db('app_terms').insert({ app_id: id, version, text, created_at: now });
  await db('apps').where('id', id).update({ terms_version: version, updated_at: now });
  return version;
}

export async function replaceAppScopes(db: Knex | Knex.Transaction, id: string, scopes: { apiId: string; scope: string; reason: string }[]): Promise<void> {
  await db('app_scopes').where('app_id', id).delete();
  await db('app_scopes').insert(scopes.map((s) => ({ app_id: id, api_id: s.apiId, scope: s.scope, reason: s.reason })));
}

export async function setAppPublished(db: Knex | Knex.Transaction, id: string, published: boolean, now: number): Promise<void> {
  await db('apps').where('id', id).update({ published, updated_at: now });
}
