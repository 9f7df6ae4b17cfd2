import { z } from 'zod';

// Bounds on the access-token lifetime: below 60 s clock skew between servers eats the token,
// above 3600 s a revoked tenant keeps working too long for a bearer token that is verified offline.
export const ACCESS_TOKEN_TTL_MIN = 60;
export const ACCESS_TOKEN_TTL_MAX = 3600;

// A grace period longer than 30 days defeats the purpose of rotating a secret.
export const SECRET_GRACE_PERIOD_MAX = 30 * 24 * 3600;

export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
  readonly redisKeyPrefix: string;
  readonly signingAlg: SigningAlg;
  readonly accessTokenTtl: number;
  readonly secretGracePeriod: number;
  /** Base64url or hex encoded 32-byte key; undefined in development until one is generated. */
  readonly dataKey: string | undefined;
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Number of proxies in front of the server whose X-Forwarded-* headers are trusted; 0 trusts none. */
  readonly trustProxy: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const integer = (name: string, form: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be ${form}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be ${form}`);

const schema = z.object({
  PORT: integer('PORT', 'an integer from 0 to 65535', 0, 65535).default(3000),
  HOST: z.string().min(1, 'HOST must be a host name or IP address to listen on').default('0.0.0.0'),
  ISSUER: z
    .url({ protocol: /^https?$/, error: 'ISSUER must be an absolute http:// or https:// URL without query or fragment' })
    .refine((value) => !value.includes('?') && !value.includes('#'), 'ISSUER must not have a query or fragment')
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'DATABASE_URL must be sqlite:PATH or postgres://USER@HOST:PORT/DB')
    .default('sqlite:./data/tenantgate.sqlite'),
  REDIS_URL: z
    .string()
    .regex(/^(rediss?|redis-sentinel|redis-cluster):\/\/.+/, 'REDIS_URL must be redis://HOST:PORT, rediss://…, redis-sentinel://… or redis-cluster://…')
    .optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'REDIS_KEY_PREFIX must be 1 to 64 characters of A-Z, a-z, 0-9, ":", ".", "_" and "-"')
    .default('tenantgate:'),
  SIGNING_ALG: z.enum(SIGNING_ALGS, { error: `SIGNING_ALG must be one of ${SIGNING_ALGS.join(', ')}` }).default('RS256'),
  ACCESS_TOKEN_TTL: integer(
    'ACCESS_TOKEN_TTL',
    `a whole number of seconds from ${ACCESS_TOKEN_TTL_MIN} to ${ACCESS_TOKEN_TTL_MAX}`,
    ACCESS_TOKEN_TTL_MIN,
    ACCESS_TOKEN_TTL_MAX,
  ).default(900),
  SECRET_GRACE_PERIOD: integer(
    'SECRET_GRACE_PERIOD',
    `a whole number of seconds from 0 to ${SECRET_GRACE_PERIOD_MAX}`,
    0,
    SECRET_GRACE_PERIOD_MAX,
  ).default(86400),
  DATA_KEY: z
    .string()
    .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9_-]{43}=?)$/, 'DATA_KEY must be 32 random bytes as 64 hex digits or 43 base64url characters')
    .optional(),
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'NODE_ENV must be development, production or test' }).default('development'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  TRUST_PROXY: integer('TRUST_PROXY', 'the number of trusted proxy hops, from 0 to 10', 0, 10).default(0),
});

/**
 * Reads and validates the environment once. Throws a ConfigError that names every invalid
 * variable and its accepted form, so an operator fixes all of them in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${String(issue.path[0] ?? '')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }

  const values = parsed.data;
  if (values.NODE_ENV === 'production' && values.DATA_KEY === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  DATA_KEY: required when NODE_ENV=production; generate one with `openssl rand -hex 32`',
    );
  }

  const issuer = (values.ISSUER ?? `http://localhost:${values.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    port: values.PORT,
    host: values.HOST,
    issuer,
    databaseUrl: values.DATABASE_URL,
    redisUrl: values.REDIS_URL,
    redisKeyPrefix: values.REDIS_KEY_PREFIX,
    signingAlg: values.SIGNING_ALG,
    accessTokenTtl: values.ACCESS_TOKEN_TTL,
    secretGracePeriod: values.SECRET_GRACE_PERIOD,
    dataKey: values.DATA_KEY,
    nodeEnv: values.NODE_ENV,
    logLevel: values.LOG_LEVEL,
    trustProxy: values.TRUST_PROXY,
  });
}
