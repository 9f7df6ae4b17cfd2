import { randomUUID } from 'node:crypto';

import type { Knex } from 'knex';

import { ACCESS_TOKEN_TTL_MAX, ACCESS_TOKEN_TTL_MIN } from '../config.js';
import { listApis } from '../storage/apis.js';
import { findAppByName, getApp, getTerms, insertApp, listApps } from '../storage/apps.js';
import { change, type DomainContext } from './context.js';
import { assertThat, invalid, notFound } from './errors.js';
import type { Actor, App } from './types.js';
import { nonPublicHostProblem } from './public-url.js';
import { requireName } from './validation.js';

// Column sizes of app_scopes.reason; the other two keep one page of the hub readable.
const SCOPE_REASON_MAX = 500;
const DESCRIPTION_MAX = 2000;
const TERMS_MAX = 100_000;

export interface RequestedScope {
  apiId: string;
  scope: string;
  reason: string;
}

export interface CreateAppInput {
  name: string;
  developerName: string;
  description?: string | undefined;
  homepageUrl?: string | null | undefined;
  logoUrl?: string | null | undefined;
  orgId?: string | null | undefined;
  terms: string;
  /** Scopes as `scope` (default API) or `audience|scope`, each with the reason shown on Allow Access. */
  scopes: { scope: string; audience?: string | undefined; reason: string }[];
  tokenTtl?: number | undefined;
  published?: boolean | undefined;
}

/** Checks a URL that is shown to administrators: https only, never fetched by the server. */
export function requireHttpsUrl(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('app.invalid_url', `${field} must be an absolute https:// URL`);
  }
  if (url.protocol !== 'https:') throw invalid('app.invalid_url', `${field} must use https://`);
  if (url.username || url.password) throw invalid('app.invalid_url', `${field} must not contain a user name or password`);
  if (value.length > 2000) throw invalid('app.invalid_url', `${field} must be at most 2000 characters`);
  const problem = nonPublicHostProblem(url.hostname);
  if (problem) throw invalid('app.invalid_url', `${field} ${problem}; use the app's public https:// address`);
  return url.toString();
}

/** Checks the optional homepage or logo URL of an app; an empty value clears it. */
export function optionalHttpsUrl(field: string, value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : requireHttpsUrl(field, trimmed);
}

export function requireTerms(value: string): string {
  const terms = value.trim();
  if (terms.length === 0) throw invalid('app.missing_terms', 'an app needs terms and conditions');
  if (terms.length > TERMS_MAX) throw invalid('app.invalid_terms', `terms and conditions must be at most ${TERMS_MAX} characters`);
  return terms;
}

export function requireDescription(value: string | undefined): string {
  const description = value?.trim() ?? '';
  if (description.length > DESCRIPTION_MAX) throw invalid('app.invalid_description', `description must be at most ${DESCRIPTION_MAX} characters`);
  return description;
}

/**
 * Resolves requested scopes against the API catalogue: `audience` absent means the default API.
 * Each scope needs the sentence shown on the Allow Access screen, and may appear only once.
 */
export async function resolveRequestedScopes(trx: Knex.Transaction, requested: CreateAppInput['scopes']): Promise<RequestedScope[]> {
  if (requested.length === 0) throw invalid('app.no_scopes', 'an app must request at least one scope');
  const apis = await listApis(trx);
  const fallback = apis.find((api) => api.isDefault);
  const seen = new Set<string>();

  return requested.map((entry) => {
    const api = entry.audience === undefined ? fallback : apis.find((candidate) => candidate.audience === entry.audience);
    if (!api) throw invalid('app.unknown_api', `no API with audience ${JSON.stringify(entry.audience ?? '(default)')} is registered`);
    if (!api.scopes.some((s) => s.scope === entry.scope)) {
      throw invalid('app.unknown_scope', `API ${api.audience} has no scope ${JSON.stringify(entry.scope)}`);
    }
    const key = `${api.id}|${entry.scope}`;
    if (seen.has(key)) throw invalid('app.duplicate_scope', `scope ${JSON.stringify(entry.scope)} of ${api.audience} is requested twice`);
    seen.add(key);

    const reason = entry.reason.trim();
    if (reason.length === 0) throw invalid('app.missing_scope_reason', `say why the app needs ${entry.scope}; administrators see it on the Allow Access screen`);
    if (reason.length > SCOPE_REASON_MAX) throw invalid('app.invalid_scope_reason', `the reason for ${entry.scope} must be at most ${SCOPE_REASON_MAX} characters`);
    return { apiId: api.id, scope: entry.scope, reason };
  });
}

export function requireTokenTtl(value: number | undefined, fallback: number): number {
  const ttl = value ?? fallback;
  if (!Number.isInteger(ttl) || ttl < ACCESS_TOKEN_TTL_MIN || ttl > ACCESS_TOKEN_TTL_MAX) {
    throw invalid('app.invalid_token_ttl', `access-token lifetime must be a whole number of seconds from ${ACCESS_TOKEN_TTL_MIN} to ${ACCESS_TOKEN_TTL_MAX}`);
  }
  return ttl;
}

export async function createApp(ctx: DomainContext, actor: Actor, input: CreateAppInput): Promise<App> {
  const name = requireName('app', input.name);
  const developerName = requireName('developer', input.developerName);
  const terms = requireTerms(input.terms);
  if (input.scopes.length === 0) throw invalid('app.no_scopes', 'an app must request at least one scope');
  const description = requireDescription(input.description);
  const homepageUrl = optionalHttpsUrl('homepage URL', input.homepageUrl);
  const logoUrl = optionalHttpsUrl('logo URL', input.logoUrl);
  const tokenTtl = requireTokenTtl(input.tokenTtl, ctx.settings.accessTokenTtl);

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const scopes = await resolveRequestedScopes(trx, input.scopes);

    const id = randomUUID();
    await insertApp(trx, {
      id,
      orgId: input.orgId ?? null,
      name,
      developerName,
      description,
      homepageUrl,
      logoUrl,
      published: input.published ?? false,
      tokenTtl,
      terms,
      scopes,
      now,
    });
    audit({ networkId: null, action: 'app.created', targetType: 'app', targetId: id, details: { name, scopes: input.scopes.map((s) => s.scope) } });
    const app = await getApp(trx, id);
    assertThat(app, notFound('app', id));
    return app;
  });
}

// App IDs are UUIDs. Anything else is unknown without a query, which also keeps a NUL byte
// (rejected by Postgres in text) away from the database.
const APP_ID_PATTERN = /^[A-Za-z0-9-]{1,40}$/;

export function isAppId(value: string): boolean {
  return APP_ID_PATTERN.test(value);
}

export async function requireApp(ctx: DomainContext, appId: string): Promise<App> {
  assertThat(isAppId(appId), notFound('app', appId));
  const app = await getApp(ctx.db, appId);
  assertThat(app, notFound('app', appId));
  return app;
}

export async function currentTerms(ctx: DomainContext, app: App): Promise<string> {
  return (await getTerms(ctx.db, app.id, app.termsVersion)) ?? '';
}

export { listApps, findAppByName };
