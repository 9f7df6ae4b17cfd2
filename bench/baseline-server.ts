/**
 * The benchmark's baseline: bare oidc-provider issuing the same JWT access token as tenantgate
 * (same algorithm, claims, `typ` and lifetime) to one static client, with no tenant check, no
 * database and no cache. It runs as its own process, started by bench/run.ts with:
 *
 *   node dist/bench/baseline-server.js PORT ALG AUDIENCE SCOPES CLIENT_ID CLIENT_SECRET
 *
 * and prints one JSON line `{"ready": true}` on stdout once it listens on 127.0.0.1:PORT.
 *
 * NOTE: this is the one file outside src/oauth/ that imports oidc-provider: a baseline has to.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

// Matches tenantgate's default ACCESS_TOKEN_TTL, so both tokens carry the same `exp - iat`.
const ACCESS_TOKEN_TTL = 900;

async function privateJwk(alg: string): Promise<JWK> {
  const options = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { modulusLength: 2048, extractable: true };
  const { privateKey } = await generateKeyPair(alg, options);
  return { ...(await exportJWK(privateKey)), kid: `baseline-${alg}`, alg, use: 'sig' };
}

async function main(): Promise<void> {
  const [port, alg, audience, scopes, clientId, clientSecret] = process.argv.slice(2);
  if (!port || !alg || !audience || !scopes || !clientId || !clientSecret) {
    throw new Error('usage: baseline-server.js PORT ALG AUDIENCE SCOPES CLIENT_ID CLIENT_SECRET');
  }
  const issuer = `http://127.0.0.1:${port}`;
  const scopeList = scopes.split(' ');

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: scopes,
        token_endpoint_auth_method: 'client_secret_basic',
        // Unused (no ID tokens), but oidc-provider rejects a default alg that no key can sign.
        id_token_signed_response_alg: alg as 'RS256' | 'ES256' | 'EdDSA',
      },
    ],
    jwks: { keys: [(await privateJwk(alg)) as NonNullable<Configuration['jwks']>['keys'][number]] },
    routes: { token: '/token', jwks: '/jwks' },
    responseTypes: ['none'],
    scopes: scopeList,
    claims: {},
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: scopes,
          audience,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: alg as 'RS256' | 'ES256' | 'EdDSA' } },
        }),
      },
    },
    // The tenant is copied from the request unchecked: the baseline does no tenant work at all.
    extraTokenClaims(ctx: KoaContextWithOIDC) {
      // The token endpoint keeps only its grant's parameters in ctx.oidc.params; the parsed form is in body.
      const tenant = (ctx.oidc.body as Record<string, unknown> | undefined)?.tenant;
      return typeof tenant === 'string' ? { tenant } : undefined;
    },
    async renderError(ctx: KoaContextWithOIDC, out) {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };

  const provider = new Provider(issuer, configuration);
  const server = provider.listen(Number(port), '127.0.0.1');
  server.on('listening', () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
