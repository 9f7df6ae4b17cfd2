import type { Context } from 'koa';

import { DomainError } from '../domain/errors.js';
import { readBody } from '../http/read-body.js';

export type PageForm = Record<string, string | string[]>;

// Large enough for a paste of 20,000 tenant IDs of 64 characters; larger imports use the CLI.
export const PAGE_FORM_LIMIT = 2 * 1024 * 1024;

/** Reads an application/x-www-form-urlencoded page form; repeated fields become arrays. */
export async function readPageForm(ctx: Context, limit = PAGE_FORM_LIMIT): Promise<PageForm> {
  const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new DomainError('form.unsupported', 400, 'forms must be sent as application/x-www-form-urlencoded');
  }
  if (Number(ctx.get('content-length') || '0') > limit) throw new DomainError('form.too_large', 413, `the form must be at most ${limit} bytes`);

  const body = await readBody(ctx.req, limit, () => new DomainError('form.too_large', 413, `the form must be at most ${limit} bytes`));

  const form: PageForm = {};
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    // Postgres rejects NUL in text values, and no field of a page form may contain one.
    if (key.includes('\u0000') || value.includes('\u0000')) throw new DomainError('form.invalid', 400, `form field ${JSON.stringify(key)} must not contain NUL characters`);
    const previous = form[key];
    if (previous === undefined) form[key] = value;
    else form[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return form;
}

/** The first value of a field, or '' when absent. */
export function field(form: PageForm, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** Every value of a repeatable field (checkboxes). */
export function fields(form: PageForm, name: string): string[] {
  const value = form[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Splits a pasted list on commas, whitespace and line breaks. */
export function splitList(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}
