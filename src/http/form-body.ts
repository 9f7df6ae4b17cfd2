import type { Context } from 'koa';

import { OAuthError } from '../oauth/oauth-error.js';
import { readBody } from './read-body.js';

export type FormBody = Record<string, string | string[]>;

/**
 * Reads an application/x-www-form-urlencoded body of at most `limit` bytes. Repeated
 * parameters become arrays, so callers can reject them as RFC 6749 §3.2 requires.
 */
export async function readForm(ctx: Context, limit: number): Promise<FormBody> {
  const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(400, 'invalid_request', 'only application/x-www-form-urlencoded content is processed');
  }
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new OAuthError(413, 'invalid_request', `request body must be at most ${limit} bytes`);

  const body = await readBody(ctx.req, limit, () => new OAuthError(413, 'invalid_request', `request body must be at most ${limit} bytes`));
  const text = body.toString('utf8');
  const form: FormBody = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = form[key];
    if (previous === undefined) form[key] = value;
    else form[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return form;
}

/** Returns a single-valued parameter; a repeated one is an invalid_request. */
export function single(form: FormBody, name: string): string | undefined {
  const value = form[name];
  if (Array.isArray(value)) throw new OAuthError(400, 'invalid_request', `'${name}' parameter must not be provided twice`);
  return value === '' ? undefined : value;
}
