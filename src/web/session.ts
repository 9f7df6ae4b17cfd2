import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Knex } from 'knex';
import type { Context } from 'koa';

import { open, seal } from '../crypto/data-key.js';
import type { Clock } from '../domain/types.js';

// A session lives 12 hours from sign-in, whatever the activity: a working day, after which the
// user signs in again. Idle sessions end after 2 hours.
export const SESSION_MAX_AGE_MS = 12 * 3600 * 1000;
export const SESSION_IDLE_MS = 2 * 3600 * 1000;

export interface SessionData {
  /** The signed-in account as `<kind>:<id>`, for example `user:<id>` for hub and operator users. */
  subject: string;
  /** Synchronizer token for the session's forms. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** One message shown on the next page, then dropped. */
  flash?: { kind: 'info' | 'error'; text: string } | undefined;
  /** A credential sealed for exactly one display (see takeReveal), then dropped. */
  reveal?: string | undefined;
  /** Progress of multi-step forms, by flow name (no credentials). */
  flows?: Record<string, unknown> | undefined;
}

/** Session storage: SQL by default, the shared Redis store when REDIS_URL is set. Keys are hashes of cookie values. */
export interface SessionStore {
  get(idHash: string): Promise<SessionData | undefined>;
  set(idHash: string, data: SessionData, expiresAt: number): Promise<void>;
  destroy(idHash: string): Promise<void>;
  /** Deletes expired sessions, for stores without their own expiry. */
  purgeExpired?(): Promise<void>;
}

export class SqlSessionStore implements SessionStore {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async get(idHash: string): Promise<SessionData | undefined> {
    const row = await this.db('web_sessions').where('id_hash', idHash).where('expires_at', '>', this.clock.now()).first<{ data: string } | undefined>('data');
    return row && (JSON.parse(row.data) as SessionData);
  }

  async set(idHash: string, data: SessionData, expiresAt: number): Promise<void> {
    await this.db('web_sessions')
      .insert({ id_hash: idHash, subject: data.subject, data: JSON.stringify(data), created_at: data.createdAt, expires_at: expiresAt })
      .onConflict('id_hash')
      .merge(['data', 'expires_at']);
  }

  async destroy(idHash: string): Promise<void> {
    await this.db('web_sessions').where('id_hash', idHash).delete();
  }

  async purgeExpired(): Promise<void> {
    await this.db('web_sessions').where('expires_at', '<=', this.clock.now()).delete();
  }
}

/** The part of a shared key-value store (Redis when REDIS_URL is set) that sessions need. */
export interface ExpiringStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Session storage in the deployment's shared store, so every instance reads every session. */
export class SharedSessionStore implements SessionStore {
  constructor(
    private readonly store: ExpiringStore,
    private readonly clock: Clock,
  ) {}

  async get(idHash: string): Promise<SessionData | undefined> {
    const text = await this.store.get(idHash);
    return text === undefined ? undefined : (JSON.parse(text) as SessionData);
  }

  async set(idHash: string, data: SessionData, expiresAt: number): Promise<void> {
    await this.store.set(idHash, JSON.stringify(data), Math.max(1, expiresAt - this.clock.now()));
  }

  async destroy(idHash: string): Promise<void> {
    await this.store.delete(idHash);
  }
}

export interface SessionOptions {
  store: SessionStore;
  clock: Clock;
  /** HMAC key from DATA_KEY's web-tokens subkey; seals revealed credentials as well. */
  key: Buffer;
  /** True when the issuer is https: the cookie gets Secure and the __Host- prefix. */
  secure: boolean;
}

/** The session of one request, loaded lazily from its cookie. */
export class Sessions {
  readonly cookieName: string;
  private readonly revealKey: Buffer;

  constructor(private readonly options: SessionOptions) {
    // __Host- makes the browser insist on Secure, Path=/ and no Domain (RFC 6265bis §4.1.3.2).
    this.cookieName = options.secure ? '__Host-tg_session' : 'tg_session';
    this.revealKey = Buffer.from(hkdfSync('sha256', options.key, Buffer.alloc(0), 'tenantgate session reveal', 32));
  }

  private hash(id: string): string {
    return createHash('sha256').update(id).digest('hex');
  }

  private cookieId(ctx: Context): string | undefined {
    const id = ctx.cookies.get(this.cookieName);
    return id && /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined;
  }

  /** Reads the request's session; an expired or idle one is removed and reads as absent. */
  async load(ctx: Context): Promise<SessionData | undefined> {
    if (ctx.state.sessionLoaded) return ctx.state.session as SessionData | undefined;
    ctx.state.sessionLoaded = true;
    const id = this.cookieId(ctx);
    if (!id) return undefined;

    const data = await this.options.store.get(this.hash(id));
    const now = this.options.clock.now();
    if (!data || now - data.createdAt > SESSION_MAX_AGE_MS || now - data.lastSeenAt > SESSION_IDLE_MS) {
      if (data) await this.options.store.destroy(this.hash(id));
      return undefined;
    }
    ctx.state.session = data;
    ctx.state.sessionId = id;
    // Saving on every request keeps the idle clock honest; one write per page view is cheap here.
    if (now - data.lastSeenAt > 60_000) await this.save(ctx, { ...data, lastSeenAt: now });
    return data;
  }

  /** Starts a new session for a subject, replacing any previous one (no session fixation). */
  async start(ctx: Context, subject: string): Promise<SessionData> {
    await this.end(ctx);
    const id = randomBytes(32).toString('base64url');
    const now = this.options.clock.now();
    const data: SessionData = { subject, csrf: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now };
    ctx.state.sessionId = id;
    ctx.state.session = data;
    ctx.state.sessionLoaded = true;
    await this.options.store.set(this.hash(id), data, now + SESSION_MAX_AGE_MS);
    // Expired SQL rows are deleted as users sign in, so the table stays near the live sessions.
    await this.options.store.purgeExpired?.();
    setCookie(ctx, this.cookieName, id, { secure: this.options.secure, sameSite: 'lax', maxAge: SESSION_MAX_AGE_MS });
    return data;
  }

  async save(ctx: Context, data: SessionData): Promise<void> {
    const id = ctx.state.sessionId as string | undefined;
    if (!id) return;
    ctx.state.session = data;
    await this.options.store.set(this.hash(id), data, data.createdAt + SESSION_MAX_AGE_MS);
  }

  async end(ctx: Context): Promise<void> {
    const id = (ctx.state.sessionId as string | undefined) ?? this.cookieId(ctx);
    if (id) await this.options.store.destroy(this.hash(id));
    ctx.state.session = undefined;
    ctx.state.sessionId = undefined;
    setCookie(ctx, this.cookieName, '', { secure: this.options.secure, sameSite: 'lax', maxAge: 0 });
  }

  async flash(ctx: Context, kind: 'info' | 'error', text: string): Promise<void> {
    const data = await this.load(ctx);
    if (data) await this.save(ctx, { ...data, flash: { kind, text } });
  }

  /** Returns and drops the pending flash message. */
  async takeFlash(ctx: Context): Promise<SessionData['flash']> {
    const data = await this.load(ctx);
    if (!data?.flash) return undefined;
    await this.save(ctx, { ...data, flash: undefined });
    return data.flash;
  }

  /** Stores (or with undefined, clears) the progress of a multi-step form. */
  async remember(ctx: Context, flow: string, value: unknown): Promise<void> {
    const data = await this.load(ctx);
    if (!data) return;
    const flows = { ...data.flows };
    if (value === undefined) delete flows[flow];
    else flows[flow] = value;
    await this.save(ctx, { ...data, flows });
  }

  async recall<T>(ctx: Context, flow: string): Promise<T | undefined> {
    return (await this.load(ctx))?.flows?.[flow] as T | undefined;
  }

  /**
   * Keeps a credential for exactly one display on the next page. It is sealed with a key that
   * is never written to the store, bound to this session, and dropped by the first takeReveal.
   */
  async putReveal(ctx: Context, value: Record<string, string>): Promise<void> {
    const data = await this.load(ctx);
    if (!data) return;
    const sealed = seal(this.revealKey, JSON.stringify(value), ctx.state.sessionId as string);
    await this.save(ctx, { ...data, reveal: sealed });
  }

  async takeReveal(ctx: Context): Promise<Record<string, string> | undefined> {
    const data = await this.load(ctx);
    if (!data?.reveal) return undefined;
    await this.save(ctx, { ...data, reveal: undefined });
    return JSON.parse(open(this.revealKey, data.reveal, ctx.state.sessionId as string)) as Record<string, string>;
  }
}

/**
 * Sets a cookie, with Secure when the issuer is https. TLS may end at a proxy that koa does not
 * trust (TRUST_PROXY=0), and koa then refuses Secure cookies; an https issuer means the browser
 * talks TLS, so the flag is forced.
 */
export function setCookie(ctx: Context, name: string, value: string, options: { secure: boolean; sameSite: 'lax' | 'strict'; maxAge?: number }): void {
  if (options.secure) (ctx.cookies as unknown as { secure: boolean }).secure = true;
  ctx.cookies.set(name, value, { httpOnly: true, sameSite: options.sameSite, secure: options.secure, path: '/', maxAge: options.maxAge, overwrite: true });
}

/** Compares two tokens in constant time; different lengths never match. */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
