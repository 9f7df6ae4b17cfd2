import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';

import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type Provider from 'oidc-provider';

import type { Config } from './config.js';
import type { DomainContext } from './domain/context.js';
import { systemClock, type Actor, type Clock } from './domain/types.js';
import { effectiveRateLimit } from './domain/app-rate-limits.js';
import { addHealthRoutes } from './http/health.js';
import { loggablePath } from './http/loggable-path.js';
import { errorHandler, requestLog, securityHeaders } from './http/middleware.js';
import { Metrics } from './http/metrics.js';
import { RateLimits, type RateLimitedError } from './http/rate-limits.js';
import { DEFAULT_REQUEST_LIMITS, enforceRequestLimits, serverOptions, type RequestLimits } from './http/request-limits.js';
import { createLogger, type Logger } from './logger.js';
import { ApiCatalogue } from './oauth/api-catalogue.js';
import { ClientStore } from './oauth/client-store.js';
import type { SecretCheckHooks } from './oauth/client-secret.js';
import { discoveryDocument } from './oauth/discovery.js';
import { EpochWatcher } from './oauth/freshness.js';
import { createTokenFastPath } from './oauth/token-fast-path.js';
import { WalIndexSignal } from './storage/wal-index-signal.js';
import { createIntrospectionHandler } from './oauth/introspection.js';
import { AuthFailureAudit } from './oauth/auth-failure-audit.js';
import { LastUsedRecorder } from './oauth/last-used.js';
import { OAuthError } from './oauth/oauth-error.js';
import { OAUTH_ROUTES } from './oauth/provider.js';
import { ProviderHolder } from './oauth/provider-holder.js';
import { createRevocationHandler } from './oauth/revocation.js';
import { RevocationList } from './oauth/revocation-list.js';
import { ensureSigningKey } from './oauth/signing-keys.js';
import { STORAGE_UNAVAILABLE_DESCRIPTION } from './oauth/storage-unavailable.js';
import { TokenVerifier } from './oauth/token-verifier.js';
import { adminApiRoutes } from './api/v1.js';
import { createDomainContext } from './runtime.js';
import { SharedState } from './shared-state/shared-state.js';
import { migrateLatest, openDb, sqliteFile, type Db } from './storage/db.js';
import { createWebPages } from './web/index.js';
import { portalPages } from './web/portal/index.js';

export interface TenantgateOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  /** Apply pending migrations before serving (default true). */
  migrate?: boolean;
  /** Overrides of the HTTP request limits (tests shorten the timeouts). */
  requestLimits?: Partial<RequestLimits>;
}

export interface Tenantgate {
  readonly config: Config;
  readonly db: Db;
  readonly domain: DomainContext;
  readonly app: Koa;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clients: ClientStore;
  /** Redis-backed (REDIS_URL) or in-process shared state: key-value stores, rate limiters, health. */
  readonly shared: SharedState;
  /** Starts listening; resolves with the base URL once the port is bound. */
  listen(port?: number, host?: string): Promise<{ server: Server; url: string }>;
  /** Stops accepting connections, finishes in-flight requests, flushes and closes the database. */
  close(): Promise<void>;
  /** Writes batched last-used times and failure counts now instead of at their next interval. */
  flushBackgroundWork(): Promise<void>;
}

const SYSTEM: Actor = { id: 'system' };

/**
 * The responses whose handlers are still running, so shutdown can wait for them and tell their
 * clients not to reuse the connection.
 */
class InFlight {
  #closing = false;
  readonly #responses = new Set<ServerResponse>();
  #drained: (() => void) | undefined;

  start(res: ServerResponse): void {
    // A keep-alive connection would otherwise stay open after this response until its idle timeout.
    if (this.#closing) res.setHeader('Connection', 'close');
    this.#responses.add(res);
  }

  end(res: ServerResponse): void {
    this.#responses.delete(res);
    if (this.#responses.size === 0) this.#drained?.();
  }

  /** Marks every response not yet started, and every later one, to close its connection. */
  beginClosing(): void {
    this.#closing = true;
    for (const res of this.#responses) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  idle(): Promise<void> {
    if (this.#responses.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }
}

/**
 * Cache refreshes and periodic reloads that run outside any request. Shutdown stops starting them
 * and waits for those running: a query that needs a pool connection while knex destroys the pool
 * never gets one, and its 60 s acquire timer would keep the process alive.
 */
class BackgroundWork {
  #stopped = false;
  readonly #running = new Set<Promise<unknown>>();

  /** Runs `task` unless shutdown has begun; its failure goes to `onError`. */
  run(task: () => Promise<unknown>, onError: (err: unknown) => void): void {
    if (this.#stopped) return;
    const running = task().catch(onError);
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }

  /** Refuses new tasks and resolves when the running ones have settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}

// Interval, during shutdown, between sweeps that close connections which have become idle.
const IDLE_SWEEP_MS = 50;
// How often keys are reloaded without a change notice, so an expired retired key leaves the JWKS.
const KEY_RELOAD_INTERVAL_MS = 60_000;
// How long start-up waits for Redis before serving in degraded mode (SQL on every request).
const REDIS_STARTUP_WAIT_MS = 1500;

export async function createTenantgate(options: TenantgateOptions): Promise<Tenantgate> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = openDb(config.databaseUrl);
  try {
    return await assemble(options, config, clock, logger, db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

async function assemble(options: TenantgateOptions, config: Config, clock: Clock, logger: Logger, db: Db): Promise<Tenantgate> {
  if (options.migrate !== false) {
    await migrateLatest(db, () => logger.warn({ wait_s: 30 }, 'migration lock is held by another process; waiting for it'));
  }

  const clients = new ClientStore(db, clock);
  const catalogue = new ApiCatalogue(db);
  let holder: ProviderHolder | undefined;

  const refreshAfterChange = async (): Promise<void> => {
    clients.invalidate();
    await Promise.all([catalogue.refresh(), holder?.reload()]);
  };
  const background = new BackgroundWork();
  const refreshInBackground = (reason: string): void => {
    background.run(
      () => refreshAfterChange().then(() => shared.report()),
      (err) => logger.error({ err, reason }, 'failed to refresh caches after a change'),
    );
  };

  // Redis tells the other instances about each change at once, so an idle instance rebuilds its
  // JWKS before a rotation signs. Correctness does not wait for that message: every request
  // still reads the cache epoch (see `fresh`), because a message can arrive after the next
  // request. While Redis is unreachable, caches are bypassed altogether.
  const shared = new SharedState({ redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix, logger });
  clients.bypassCache = !shared.healthy;
  shared.onHealthChange((healthy) => {
    clients.bypassCache = !healthy;
    if (healthy) refreshInBackground('Redis reachable again');
  });
  shared.onInvalidation((message) => refreshInBackground(`change notice: ${message.reason}`));
  if (shared.configured) await shared.ready(REDIS_STARTUP_WAIT_MS);

  const domain = createDomainContext(
    config,
    db,
    clock,
    () => {
      refreshInBackground('local change');
      shared.publishInvalidation('change').catch((err: unknown) => logger.warn({ err }, 'failed to publish a change notice; other instances see it on their next request'));
    },
    logger,
  );
  const databaseFile = sqliteFile(config.databaseUrl);
  const walIndex = databaseFile === undefined ? undefined : WalIndexSignal.watch(databaseFile);
  const watcher = new EpochWatcher(db, refreshAfterChange, walIndex);

  await ensureSigningKey(domain, SYSTEM, config.signingAlg);
  await catalogue.refresh();
  await watcher.prime();

  const metrics = new Metrics();
  const lastUsed = new LastUsedRecorder(db, clock, logger);
  const authFailures = new AuthFailureAudit(db, clients, clock, logger);
  const limits = new RateLimits(logger, { redis: shared.redis, keyPrefix: shared.key('ratelimit', '') });
  const hooks: SecretCheckHooks = {
    onSecretUsed: (secretId) => lastUsed.record(secretId),
    beforeCheck: (clientId) => limits.assertClientAuthAllowed(clientId, limits.currentAddress()),
    onFailure: async (clientId) => {
      metrics.clientAuthFailures.inc();
      authFailures.record(clientId);
      await limits.recordClientAuthFailure(clientId, limits.currentAddress());
    },
  };

  const audiences = { default: () => catalogue.defaultAudience(), has: (audience: string) => catalogue.has(audience) };
  const outcomes = new WeakMap<IncomingMessage, string>();
  let providerCallback: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  const onSwap = (provider: Provider): void => {
    provider.on('grant.success', (ctx: { req: IncomingMessage }) => outcomes.set(ctx.req, 'success'));
    provider.on('grant.error', (ctx: { req: IncomingMessage }, err: { error?: string; cause?: unknown }) => {
      outcomes.set(ctx.req, err.error ?? 'error');
      if (err.error === 'temporarily_unavailable') logger.error({ err: err.cause, path: loggablePath(ctx.req.url ?? '') }, 'database read failed during a token request');
    });
    provider.on('server_error', (ctx: { req: IncomingMessage }, err: unknown) => {
      outcomes.set(ctx.req, 'server_error');
      logger.error({ err, path: loggablePath(ctx.req.url ?? '') }, 'oidc-provider server error');
    });
    providerCallback = provider.callback() as unknown as typeof providerCallback;
  };
  holder = await ProviderHolder.create(
    domain,
    {
      issuer: config.issuer,
      clients,
      secretHashKey: domain.keys.secretHash,
      clock,
      hooks,
      audiences,
      trustProxy: config.trustProxy > 0,
      admitTokenRequest: (client) => limits.admitTokenRequestOnce(client.clientId, effectiveRateLimit(client.record)),
      ephemeralStore: shared.configured ? shared.store('oidc') : undefined,
    },
    logger,
    onSwap,
  );
  const providers = holder;
  // `tenantgate keys rotate` reads these reports to wait until every instance publishes the next key.
  shared.reportWith(() => ({ kids: providers.keys.privateJwks.map((jwk) => String(jwk.kid)), activeKid: providers.keys.activeKid }));
  await shared.report().catch(() => undefined);

  const verifier = new TokenVerifier(providers, config.issuer, clock);
  const revocations = new RevocationList(db, clock, watcher, shared.configured ? shared.store('revoked') : undefined);
  const liveDeps = { clients, verifier, revocations, secretHashKey: domain.keys.secretHash, clock, hooks };

  /** Detects changes made by other processes before the request reads any cache. */
  async function fresh(ctx: Context, next: Next): Promise<void> {
    try {
      await watcher.check();
    } catch (err) {
      logger.error({ err }, 'database unreachable while checking for changes');
      throw new OAuthError(503, 'temporarily_unavailable', STORAGE_UNAVAILABLE_DESCRIPTION);
    }
    await next();
  }

  async function delegateToProvider(ctx: Context): Promise<void> {
    ctx.respond = false;
    // RFC 6749 §5.1: token responses must not be cached by old HTTP/1.0 caches either.
    if (ctx.path === OAUTH_ROUTES.token) ctx.res.setHeader('Pragma', 'no-cache');
    const started = process.hrtime.bigint();
    await providerCallback!(ctx.req, ctx.res);
    if (ctx.path === OAUTH_ROUTES.token && ctx.method === 'POST') {
      const outcome = outcomes.get(ctx.req) ?? (ctx.res.statusCode === 200 ? 'success' : 'invalid_request');
      metrics.tokenRequests.inc({ outcome });
      metrics.tokenLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      ctx.state.outcome = outcome;
    }
  }

  const inFlight = new InFlight();
  const tokenFastPath = createTokenFastPath({
    issuer: config.issuer,
    clients,
    secretHashKey: domain.keys.secretHash,
    clock,
    keys: () => providers.keys,
    audiences,
    watcher,
    limits,
    trustProxy: config.trustProxy,
    hooks,
    metrics,
    logger,
  });

  const router = new Router();
  addHealthRoutes(router, { db, shared, metrics, logger });
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    router.get(path, fresh, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = discoveryDocument(config.issuer, [providers.keys.activeAlg], catalogue.apis);
    });
  }
  router.post(OAUTH_ROUTES.introspection, fresh, createIntrospectionHandler(liveDeps));
  router.post(OAUTH_ROUTES.revocation, fresh, createRevocationHandler({ ...liveDeps, onRevoked: () => undefined }));
  router.all(OAUTH_ROUTES.token, fresh, delegateToProvider);
  router.get(OAUTH_ROUTES.jwks, fresh, delegateToProvider);

  const app = new Koa({ proxy: config.trustProxy > 0, maxIpsCount: config.trustProxy });
  const requestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.requestLimits };
  app.use(requestLog(logger));
  app.use(errorHandler(logger, config.issuer));
  app.use(securityHeaders);
  app.use(enforceRequestLimits(requestLimits));
  // ctx.ip honours X-Forwarded-For only from TRUST_PROXY hops; rate limits count by this address.
  const refusals = new WeakMap<IncomingMessage, RateLimitedError>();
  app.use((ctx, next) => limits.withAddress(ctx.ip, next, refusals.get(ctx.req)));
  app.use(router.routes());
  app.use(router.allowedMethods());
  const adminApi = adminApiRoutes(domain);
  app.use(adminApi.routes());
  app.use(adminApi.allowedMethods());
  // Sign-in, hub and operator pages; other page areas mount after this with web.kit.
  const web = createWebPages({
    domain,
    logger,
    issuer: config.issuer,
    sessionStore: shared.configured ? shared.store('session') : undefined,
    createLimiter: (settings) => shared.createRateLimiter(settings),
  });
  app.use(web.routes);
  app.use(portalPages(web.kit));

  let server: Server | undefined;
  lastUsed.start();
  authFailures.start();
  // Retired keys leave the JWKS when their last token has expired, even if nothing else changes.
  const keyTimer = setInterval(() => {
    background.run(
      () => providers.reload(),
      (err) => logger.warn({ err }, 'failed to reload signing keys'),
    );
    background.run(
      () => revocations.purgeExpired(),
      (err) => logger.warn({ err }, 'failed to purge expired revocations'),
    );
  }, KEY_RELOAD_INTERVAL_MS);
  keyTimer.unref();

  return {
    config,
    db,
    domain,
    app,
    logger,
    metrics,
    clients,
    shared,
    async listen(port = config.port, host = config.host) {
      const fullPath = app.callback();
      const toFullPath = (req: IncomingMessage, res: ServerResponse, refusal?: RateLimitedError): Promise<void> => {
        if (refusal) refusals.set(req, refusal);
        return fullPath(req, res);
      };
      server = createServer(serverOptions(requestLimits), (req, res) => {
        inFlight.start(res);
        const end = () => inFlight.end(res);
        tokenFastPath(req, res, toFullPath).then(end, end);
      });
      server.listen(port, host);
      await once(server, 'listening');
      const address = server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      return { server, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${boundPort}` };
    },
    async flushBackgroundWork() {
      await lastUsed.flush();
      await authFailures.flush();
    },
    async close() {
      if (server) {
        const closed = once(server, 'close');
        inFlight.beginClosing();
        server.close();
        server.closeIdleConnections();
        // Responses that were being written when close() began leave their connections idle later.
        const sweep = setInterval(() => server?.closeIdleConnections(), IDLE_SWEEP_MS);
        await closed.finally(() => clearInterval(sweep));
        // A client that hung up leaves no connection open, but its handler may still be running.
        await inFlight.idle();
      }
      clearInterval(keyTimer);
      await background.stop();
      await lastUsed.stop();
      await authFailures.stop();
      await shared.close();
      walIndex?.close();
      await db.destroy();
    },
  };
}
