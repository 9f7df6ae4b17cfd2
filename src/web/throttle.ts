import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

// Failed sign-ins per e-mail before a temporary lock: five tries cover typos, and 15 minutes
// of lock make online guessing of a 12-character password hopeless. The per-address limit
// stops one client from spraying many accounts.
export const FAILURES_PER_ACCOUNT = 5;
export const ACCOUNT_WINDOW_S = 15 * 60;
export const ACCOUNT_LOCK_S = 15 * 60;
export const FAILURES_PER_ADDRESS = 50;
export const ADDRESS_WINDOW_S = 60 * 60;

/** Builds a limiter; the deployment's shared state passes one whose counters live in Redis. */
export type LimiterFactory = (settings: { name: string; points: number; duration: number; blockDuration: number }) => RateLimiterAbstract;

const inProcess: LimiterFactory = (settings) =>
  new RateLimiterMemory({ keyPrefix: settings.name, points: settings.points, duration: settings.duration, blockDuration: settings.blockDuration });

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts failed sign-ins per account and per client address, in process or in Redis. Unknown
 * e-mails are counted exactly like known ones, so a lock tells nothing about an account.
 */
export class LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perAddress: RateLimiterAbstract;

  constructor(createLimiter: LimiterFactory = inProcess, name = 'login') {
    this.perAccount = createLimiter({ name: `${name}_account`, points: FAILURES_PER_ACCOUNT, duration: ACCOUNT_WINDOW_S, blockDuration: ACCOUNT_LOCK_S });
    this.perAddress = createLimiter({ name: `${name}_address`, points: FAILURES_PER_ADDRESS, duration: ADDRESS_WINDOW_S, blockDuration: ADDRESS_WINDOW_S });
  }

  private static accountKey(email: string): string {
    return email.trim().toLowerCase().slice(0, 320);
  }

  /** Checks, before the password is verified, whether this account or address is locked. */
  async check(email: string, address: string): Promise<ThrottleVerdict> {
    const [account, client] = await Promise.all([this.perAccount.get(LoginThrottle.accountKey(email)), this.perAddress.get(address)]);
    const blocked = [account, client].filter((res): res is RateLimiterRes => res !== null && res.remainingPoints <= 0);
    if (blocked.length === 0) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.ceil(Math.max(...blocked.map((res) => res.msBeforeNext)) / 1000) };
  }

  // NOTE: the address is koa's ctx.ip. Behind a proxy that TRUST_PROXY does not cover, every
  // client shares the proxy's address, so the per-address limit then applies to all of them.
  async recordFailure(email: string, address: string): Promise<void> {
    await Promise.all([
      this.perAccount.penalty(LoginThrottle.accountKey(email), 1).then((res) => this.lockWhenSpent(this.perAccount, LoginThrottle.accountKey(email), res, ACCOUNT_LOCK_S)),
      this.perAddress.penalty(address, 1).then((res) => this.lockWhenSpent(this.perAddress, address, res, ADDRESS_WINDOW_S)),
    ]);
  }

  /** A successful sign-in forgets the account's failures (not the address's). */
  async recordSuccess(email: string): Promise<void> {
    await this.perAccount.delete(LoginThrottle.accountKey(email));
  }

  private async lockWhenSpent(limiter: RateLimiterAbstract, key: string, res: RateLimiterRes, seconds: number): Promise<void> {
    if (res.remainingPoints <= 0) await limiter.block(key, seconds);
  }
}
