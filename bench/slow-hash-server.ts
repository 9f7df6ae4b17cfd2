/**
 * tenantgate with a slow password hash in front of the secret check, for the benchmark's contrast
 * only. Started by bench/run.ts as `node dist/bench/slow-hash-server.js` with the same
 * environment as `dist/src/main.js`.
 *
 * Before each token request reaches tenantgate, this entry derives scrypt (N=2^14, r=8, p=1,
 * Node's defaults, a cost in the range used for human passwords) of the presented secret, the
 * work a stored scrypt or bcrypt hash would need per request. The keyed-hash check then runs as
 * usual, so responses stay correct. The production entry (src/main.js) has no such path, and no
 * environment variable or option turns it on: only running this file does.
 */
import { scrypt } from 'node:crypto';
import { promisify } from 'node:util';

import type { IncomingMessage, ServerResponse } from 'node:http';

import { createTenantgate } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: string, length: number) => Promise<Buffer>;
const SALT = 'tenantgate-bench-slow-hash';
const KEY_LENGTH = 32;

function presentedSecret(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}


async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const tenantgate = await createTenantgate({ config, logger });
  const { server, url } = await tenantgate.listen();
  // Both the token fast path and the full path sit behind the server's one request listener,
  // so the hash goes in front of that listener. The body waits, unread, in the socket buffer.
  const [handle] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const secret = req.method === 'POST' && req.url === '/token' ? presentedSecret(req) : undefined;
    if (secret === undefined) {
      handle!(req, res);
      return;
    }
    scryptAsync(secret, SALT, KEY_LENGTH).then(
      () => handle!(req, res),
      () => handle!(req, res),
    );
  });
  logger.info({ url }, 'tenantgate (slow-hash contrast) listening');
  process.on('SIGTERM', () => {
    tenantgate.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`slow-hash server: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
