import type { Context, Next } from 'koa';

// Every script, style and image comes from tenantgate itself; no inline code runs, no page can
// frame ours, and forms post only back to us.
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Security headers for HTML pages and their assets, on top of the app-wide ones. */
export async function pageSecurityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
  ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  await next();
}
