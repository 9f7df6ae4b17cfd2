import { randomBytes, hkdfSync, createCipheriv, createDecipheriv } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Subkeys derived from DATA_KEY with HKDF-SHA256 (RFC 5869), one per purpose, so no two
 * mechanisms ever share key material.
 */
export interface DataKeys {
  /** HMAC key for client secrets. */
  readonly secretHash: Buffer;
  /** AES-256-GCM key for private signing keys at rest. */
  readonly keyEncryption: Buffer;
  /** HMAC key for session IDs, CSRF tokens and one-time links. */
  readonly webTokens: Buffer;
}

export function parseDataKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (key.length !== 32) throw new Error('DATA_KEY must decode to exactly 32 bytes');
  return key;
}

/**
 * Returns DATA_KEY, or in development reads or creates a key file next to the database, so a
 * first `npm start` needs no setup. Production refuses to start without DATA_KEY (see config).
 */
export function resolveDataKey(configured: string | undefined, devKeyFile: string): { key: Buffer; generated: boolean } {
  if (configured !== undefined) return { key: parseDataKey(configured), generated: false };

  if (existsSync(devKeyFile)) return { key: parseDataKey(readFileSync(devKeyFile, 'utf8')), generated: false };

  mkdirSync(dirname(devKeyFile), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(devKeyFile, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, generated: true };
}

export function deriveDataKeys(master: Buffer): DataKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `tenantgate ${info}`, 32));
  return Object.freeze({
    secretHash: derive('client-secret-hmac'),
    keyEncryption: derive('signing-key-encryption'),
    webTokens: derive('web-tokens'),
  });
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Encrypts with AES-256-GCM; `aad` binds the ciphertext to its row (for example the kid). */
export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function open(key: Buffer, sealed: string, aad: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || body === undefined || tag === undefined) {
    throw new Error('encrypted value has an unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new Error('cannot decrypt a stored signing key: DATA_KEY differs from the key it was encrypted with', { cause });
  }
}
