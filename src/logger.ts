import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

// Every key that can carry a credential, in the spellings that reach a log: OAuth form fields
// (snake_case), our own objects (camelCase) and HTTP headers (lower case).
const SECRET_KEYS = [
  'client_secret',
  'clientSecret',
  'secret',
  'access_token',
  'accessToken',
  'refresh_token',
  'token',
  'password',
  'passwordHash',
  'password_hash',
  'secret_hash',
  'secretHash',
  'hash',
  'authorization',
  'cookie',
  'set-cookie',
  'dataKey',
  'data_key',
  'privateJwk',
  'private_jwk',
  'client_assertion',
];

export const REDACTED_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * Creates the process logger. Redaction replaces the value, so a credential that lands in a log
 * object under any known key is never written.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tenantgate' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  );
}
