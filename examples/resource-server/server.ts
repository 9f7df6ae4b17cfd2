/**
 * A resource server that accepts tenantgate's access tokens, verified offline through the JWKS.
 *
 *   ISSUER=http://localhost:3000 AUDIENCE=https://api.example.com PORT=4000 \
 *     node dist/examples/resource-server/server.js
 *
 *   GET /tenants/:tenant/jobs   needs scope jobs:read, and the token's tenant must be :tenant
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

import Router from '@koa/router';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import Koa, { type Context, type Next } from 'koa';

export interface ResourceServerOptions {
  /** tenantgate's issuer URL; the JWKS is read from `${issuer}/jwks`. */
  issuer: string;
  /** This API's audience, as registered with `tenantgate api create`. */
  audience: string;
  /** Algorithms accepted; pin them so a token cannot choose its own (RFC 8725 §3.1). */
  algorithms?: string[];
  /** Current time for the `exp` check; defaults to the system clock. */
  now?: () => Date;
}

interface AccessToken extends JWTPayload {
  tenant: string;
  client_id: string;
  scope?: string;
}

/** Sends an RFC 6750 §3 Bearer challenge. */
function challenge(ctx: Context, status: 401 | 403, error: string, description: string): void {
  ctx.status = status;
  ctx.set('WWW-Authenticate', `Bearer error="${error}", error_description="${description}"`);
  ctx.body = { error, error_description: description };
}

export function createResourceServer(options: ResourceServerOptions): Koa {
  // createRemoteJWKSet caches the key set and refetches it when a token names an unknown kid,
  // which is how a signing-key rotation reaches this server without a restart.
  const jwks = createRemoteJWKSet(new URL(`${options.issuer}/jwks`));
  const algorithms = options.algorithms ?? ['RS256', 'ES256', 'EdDSA'];

  async function authenticate(ctx: Context, next: Next): Promise<void> {
    const [scheme, token] = ctx.get('authorization').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) {
      challenge(ctx, 401, 'invalid_request', 'a Bearer access token is required');
      return;
    }
    try {
      const { payload } = await jwtVerify<AccessToken>(token, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms,
        requiredClaims: ['exp', 'iat', 'tenant', 'client_id'],
        ...(options.now ? { currentDate: options.now() } : {}),
      });
      ctx.state.token = payload;
    } catch (err) {
      const expired = err instanceof errors.JWTExpired;
      challenge(ctx, 401, 'invalid_token', expired ? 'the access token has expired' : 'the access token is invalid');
      return;
    }
    await next();
  }

  function requireScope(scope: string) {
    return async (ctx: Context, next: Next): Promise<void> => {
      const granted = ((ctx.state.token as AccessToken).scope ?? '').split(' ');
      if (!granted.includes(scope)) {
        challenge(ctx, 403, 'insufficient_scope', `the token lacks the ${scope} scope`);
        return;
      }
      await next();
    };
  }

  /** A token is for exactly one tenant; any other tenant in the path is refused. */
  async function requireTenant(ctx: Context, next: Next): Promise<void> {
    if ((ctx.state.token as AccessToken).tenant !== ctx.params.tenant) {
      challenge(ctx, 403, 'insufficient_scope', 'the token was issued for another tenant');
      return;
    }
    await next();
  }

  const router = new Router();
  router.get('/tenants/:tenant/jobs', authenticate, requireScope('jobs:read'), requireTenant, (ctx) => {
    const token = ctx.state.token as AccessToken;
    ctx.body = { tenant: token.tenant, client_id: token.client_id, jobs: [{ id: `${token.tenant}-1`, title: 'Fix the boiler' }] };
  });

  const app = new Koa();
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

export async function startResourceServer(options: ResourceServerOptions, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(createResourceServer(options).callback());
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.ISSUER ?? 'http://localhost:3000';
  const audience = process.env.AUDIENCE ?? 'https://api.example.com';
  const port = Number(process.env.PORT ?? 4000);
  await startResourceServer({ issuer, audience }, port);
  process.stdout.write(`resource server on http://127.0.0.1:${port}, trusting ${issuer} for ${audience}\n`);
}
