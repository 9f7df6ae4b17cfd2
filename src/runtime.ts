import { dirname, resolve } from 'node:path';

import type { Config } from './config.js';
import { deriveDataKeys, resolveDataKey } from './crypto/data-key.js';
import type { DomainContext } from './domain/context.js';
import type { Clock } from './domain/types.js';
import type { Logger } from './logger.js';
import { isSqlite, type Db } from './storage/db.js';

/** Where the development DATA_KEY lives: next to the SQLite file, or ./data for Postgres. */
export function devKeyFile(config: Config): string {
  const base = isSqlite(config.databaseUrl) ? dirname(resolve(config.databaseUrl.slice('sqlite:'.length))) : resolve('data');
  return resolve(base, 'data.key');
}

/** Builds the domain context alone, for the CLI and for the server. */
export function createDomainContext(config: Config, db: Db, clock: Clock, onChange: () => void, logger?: Logger): DomainContext {
  const { key, generated } = resolveDataKey(config.dataKey, devKeyFile(config));
  if (generated) {
    logger?.warn({ file: devKeyFile(config) }, 'generated a development DATA_KEY; set DATA_KEY in production and keep it secret');
  }
  return {
    db,
    clock,
    keys: deriveDataKeys(key),
    settings: { accessTokenTtl: config.accessTokenTtl, secretGracePeriod: config.secretGracePeriod },
    onChange,
  };
}

