import { errors } from 'oidc-provider';

// Seconds a client is asked to wait (Retry-After) when the database cannot be read.
export const RETRY_AFTER_SECONDS = 5;

export const STORAGE_UNAVAILABLE_DESCRIPTION = 'the authorization server cannot reach its database; retry shortly';

/**
 * A read that the token path needs, or a revocation's write, failed because the database is
 * unreachable or failing.
 * It must become `503 temporarily_unavailable`, because `invalid_client` would tell an app that
 * its valid secret is wrong, and a response without the read would skip a check.
 */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
}

/** Runs a database read, turning any failure of it into a StorageUnavailableError. */
export async function readStorage<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new StorageUnavailableError('database read failed', { cause: err });
  }
}

/** Runs a database write, turning any failure of it into a StorageUnavailableError. */
export async function writeStorage<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw new StorageUnavailableError('database write failed', { cause: err });
  }
}

/**
 * Converts a StorageUnavailableError raised inside oidc-provider's request handling into its
 * `temporarily_unavailable` error with status 503; other errors pass through unchanged.
 */
export function toProviderError(err: unknown): unknown {
  if (!(err instanceof StorageUnavailableError)) return err;
  const unavailable = new errors.TemporarilyUnavailable(STORAGE_UNAVAILABLE_DESCRIPTION, { cause: err });
  // The class sets status 400 and `expose` true in its constructor. Only the status changes here,
  // so oidc-provider still writes the RFC 6749 body instead of a generic server_error.
  Object.assign(unavailable, { status: 503, statusCode: 503 });
  return unavailable;
}
