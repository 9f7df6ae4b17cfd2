import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Prefixes let secret scanners recognise leaked credentials, and people tell an ID from a secret.
export const CLIENT_ID_PREFIX = 'tgc_';
export const CLIENT_SECRET_PREFIX = 'tgs_';

/** The shape of every client ID tenantgate issues; no other string can name a client. */
export const CLIENT_ID_PATTERN = /^tgc_[A-Za-z0-9_-]{1,64}$/;

const SECRET_BYTES = 32; // 256 bits
const CLIENT_ID_BYTES = 18; // 144 bits: unguessable, so IDs leak nothing useful in logs

// base64url uses only unreserved characters (RFC 3986 §2.3), which form-encoding leaves as they are.
export function generateClientId(): string {
  return CLIENT_ID_PREFIX + randomBytes(CLIENT_ID_BYTES).toString('base64url');
}

export function generateClientSecret(): string {
  return CLIENT_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/**
 * Hashes a client secret with HMAC-SHA256. A slow password hash adds nothing for a 256-bit
 * random secret, and the key (derived from DATA_KEY, never stored in the database) makes a
 * stolen database useless for offline guessing.
 */
export function hashClientSecret(key: Buffer, secret: string): string {
  return createHmac('sha256', key).update(secret, 'utf8').digest('hex');
}

/** Compares two hex digests in constant time; both are always 64 hex digits. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
