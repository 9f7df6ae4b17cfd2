import type { Context, Next } from 'koa';
import { z } from 'zod';

import type { Permission, User } from '../domain/accounts-types.js';
import { authenticateAdminApiKey } from '../domain/admin-api-keys.js';
import type { DomainContext } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import { readBody } from '../http/read-body.js';
import type { Actor } from '../domain/types.js';
import { userPermissions } from '../storage/users.js';

// Admin requests carry names, tenant lists and scopes; 10,000 tenant IDs of 64 characters fit.
const JSON_BODY_LIMIT = 1024 * 1024;

export interface ApiCaller {
  user: User;
  networkId: string;
  permissions: ReadonlySet<Permission>;
  actor: Actor;
}

export const caller = (ctx: Context): ApiCaller => ctx.state.apiCaller as ApiCaller;

/**
 * Authenticates `Authorization: Bearer tga_…` and loads the user's permissions on every request,
 * so a role change applies to the next call.
 */
export function authenticateApi(domain: DomainContext) {
  return async function requireApiKey(ctx: Context, next: Next): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    const [scheme, key, extra] = ctx.get('authorization').split(' ');
    const found = scheme?.toLowerCase() === 'bearer' && key && extra === undefined ? await authenticateAdminApiKey(domain, key) : undefined;
    if (!found) {
      ctx.set('WWW-Authenticate', 'Bearer realm="tenantgate admin API"');
      throw new DomainError('auth.invalid_key', 401, 'send a valid admin API key as "Authorization: Bearer tga_…"');
    }
    const permissions = await userPermissions(domain.db, found.networkId, found.user.id);
    ctx.state.apiCaller = {
      user: found.user,
      networkId: found.networkId,
      permissions,
      actor: { id: `user:${found.user.id}`, requestId: ctx.state.requestId as string | undefined },
    } satisfies ApiCaller;
    await next();
  };
}

export function requirePermission(permission: Permission) {
  return async function checkPermission(ctx: Context, next: Next): Promise<void> {
    if (!caller(ctx).permissions.has(permission)) {
      throw new DomainError('auth.forbidden', 403, `this key's user lacks the permission ${permission}`);
    }
    await next();
  };
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Returns the path of the first key or string that a database cannot store as text: Postgres
 * rejects NUL, and an unpaired UTF-16 surrogate has no UTF-8 form (JSON allows both as escapes).
 */
function findUnstorableString(value: unknown, path: string): string | undefined {
  const unstorable = (text: string) => text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);
  if (typeof value === 'string') return unstorable(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableString(item, `${path}.${index}`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyPath = path === 'body' ? key : `${path}.${key}`;
      if (unstorable(key)) return keyPath;
      const found = findUnstorableString(item, keyPath);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Reads and validates a JSON body; malformed JSON and schema errors are 400 with the field named.
 * A request with no body at all (no `Content-Length` or `Transfer-Encoding`, or a length of 0)
 * reads as `{}`, so a route whose fields are all optional can be called without one.
 */
export async function readJson<T>(ctx: Context, schema: z.ZodType<T>): Promise<T> {
  const noBody = ctx.get('transfer-encoding') === '' && Number(ctx.get('content-length') || '0') === 0;
  const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
  if (!noBody && type !== 'application/json') throw new DomainError('request.unsupported_media_type', 415, 'send the body as application/json');

  const body = noBody
    ? Buffer.alloc(0)
    : await readBody(ctx.req, JSON_BODY_LIMIT, () => new DomainError('request.too_large', 413, `the body must be at most ${JSON_BODY_LIMIT} bytes`));

  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw new DomainError('request.invalid_json', 400, 'the body is not valid JSON');
  }
  const unstorable = findUnstorableString(value, 'body');
  if (unstorable) throw new DomainError('request.invalid', 400, `${unstorable}: must not contain NUL characters or unpaired surrogates`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'body';
    throw new DomainError('request.invalid', 400, `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
