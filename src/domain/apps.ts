import { randomUUID } from 'node:crypto';

import { ACCESS_TOKEN_TTL_MAX, ACCESS_TOKEN_TTL_MIN } from '../config.js';
import { listApis } from '../storage/apis.js';
import { findAppByName, getApp, getTerms, insertApp, listApps } from '../storage/apps.js';
import { change, type DomainContext } from './context.js';
import { assertThat, invalid, notFound } from './errors.js';
import type { Actor, App } from './types.js';
import { requireName } from './validation.js';

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
  return url.toString();
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
  const terms = input.terms.trim();
  if (terms.length === 0) throw invalid('app.missing_terms', 'an app needs terms and conditions');
  if (input.scopes.length === 0) throw invalid('app.no_scopes', 'an app must request at least one scope');
  const homepageUrl = input.homepageUrl ? requireHttpsUrl('homepage URL', input.homepageUrl) : null;
  const logoUrl = input.logoUrl ? requireHttpsUrl('logo URL', input.logoUrl) : null;
  const tokenTtl = requireTokenTtl(input.tokenTtl, ctx.settings.accessTokenTtl);

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const apis = await listApis(trx);
    const fallback = apis.find((api) => api.isDefault);
    const scopes = input.scopes.map((requested) => {
      const api = requested.audience === undefined ? fallback : apis.find((candidate) => candidate.audience === requested.audience);
      if (!api) throw invalid('app.unknown_api', `no API with audience ${JSON.stringify(requested.audience ?? '(default)')} is registered`);
      if (!api.scopes.some((s) => s.scope === requested.scope)) {
        throw invalid('app.unknown_scope', `API ${api.audience} has no scope ${JSON.stringify(requested.scope)}`);
      }
      return { apiId: api.id, scope: requested.scope, reason: requested.reason.trim() };
    });

    const id = randomUUID();
    await insertApp(trx, {
      id,
      orgId: input.orgId ?? null,
      name,
      developerName,
      description: input.description?.trim() ?? '',
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

export async function requireApp(ctx: DomainContext, appId: string): Promise<App> {
  const app = await getApp(ctx.db, appId);
  assertThat(app, notFound('app', appId));
  return app;
}

export async function currentTerms(ctx: DomainContext, app: App): Promise<string> {
  return (await getTerms(ctx.db, app.id, app.termsVersion)) ?? '';
}

export { listApps, findAppByName };
