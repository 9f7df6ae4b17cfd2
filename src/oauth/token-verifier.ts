import { importJWK, jwtVerify, type JWK, type JWTPayload, type CryptoKey } from 'jose';

import type { Clock } from '../domain/types.js';
import type { ProviderHolder } from './provider-holder.js';

export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  tenant: string;
  scope?: string;
  jti: string;
  exp: number;
  iat: number;
}

/**
 * Verifies a tenantgate access token against the keys currently published in the JWKS:
 * signature with the key's own algorithm, `typ: at+jwt` (RFC 9068 §4), `iss`, `exp`.
 * Returns undefined for anything else: garbage, foreign or expired tokens are simply inactive.
 */
export class TokenVerifier {
  #fingerprint = '';
  #keys = new Map<string, { key: CryptoKey | Uint8Array; alg: string }>();

  constructor(
    private readonly holder: ProviderHolder,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  async #currentKeys(): Promise<Map<string, { key: CryptoKey | Uint8Array; alg: string }>> {
    const jwks = this.holder.keys.privateJwks;
    const fingerprint = jwks.map((jwk) => jwk.kid).join(',');
    if (fingerprint !== this.#fingerprint) {
      const keys = new Map<string, { key: CryptoKey | Uint8Array; alg: string }>();
      for (const jwk of jwks) {
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk as JWK;
        keys.set(jwk.kid!, { key: await importJWK(publicJwk, jwk.alg), alg: jwk.alg! });
      }
      this.#keys = keys;
      this.#fingerprint = fingerprint;
    }
    return this.#keys;
  }

  async verify(token: string): Promise<AccessTokenClaims | undefined> {
    if (token.length > 8192) return undefined;
    const keys = await this.#currentKeys();
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const found = header.kid === undefined ? undefined : keys.get(header.kid);
          if (!found || found.alg !== header.alg) throw new Error('unknown key');
          return found.key;
        },
        { issuer: this.issuer, typ: 'at+jwt', currentDate: new Date(this.clock.now()), requiredClaims: ['exp', 'iat', 'jti'] },
      );
      if (typeof payload.client_id !== 'string' || typeof payload.tenant !== 'string' || typeof payload.jti !== 'string') return undefined;
      return payload as AccessTokenClaims;
    } catch {
      return undefined;
    }
  }
}
