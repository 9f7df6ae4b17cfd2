import { createTenantgate, type Tenantgate } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { ensureFirstOperator } from './web/bootstrap.js';

// Time allowed for in-flight requests to finish after SIGTERM before the process exits anyway.
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tenantgate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const logger = createLogger(config.logLevel);
  const started = Date.now();
  let tenantgate: Tenantgate | undefined;
  let stopping = false;
  // Signals are handled from the start. Shutdown waits for start-up to finish, because a query
  // sent while knex closes its pool never gets a connection, and its acquire timer would keep
  // the process alive.
  let startup: Promise<unknown> = Promise.resolve();
  let startupDone = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      // A migration waiting for another instance's lock is the usual reason start-up takes this long.
      logger.error(startupDone ? 'in-flight requests did not finish in time; exiting' : 'start-up did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    startup
      .catch(() => undefined)
      .then(() => tenantgate?.close())
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exitCode = 0;
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exitCode = 1;
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A background task that fails without a handler is a bug to log, not a reason to drop every
  // request in flight by crashing.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

  const starting = (async () => {
    tenantgate = await createTenantgate({ config, logger });
    if (stopping) return undefined;
    const { url, server } = await tenantgate.listen();
    // `url` is where this machine reaches the server; `address` is what it is bound to.
    const bound = server.address();
    const address = typeof bound === 'object' && bound ? `${bound.address}:${bound.port}` : String(bound);
    logger.info({ address, url, issuer: config.issuer, ms: Date.now() - started }, 'tenantgate listening');
    if (stopping) return undefined;
    return ensureFirstOperator(tenantgate.domain, config.issuer);
  })();
  startup = starting;
  void starting.then(
    () => (startupDone = true),
    () => (startupDone = true),
  );
  const first = await starting;
  // The link is a credential, so it goes to the terminal as plain text and never through the logger.
  if (first) {
    process.stdout.write(`\nNo users yet. Sign in as the first operator (${first.email}) with this one-time link, valid until ${new Date(first.expiresAt).toISOString()}:\n\n  ${first.url}\n\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tenantgate: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
