// Path segments that look like credentials: one-time sign-in and invitation links carry a
// 256-bit token in the path. UUIDs (our object IDs) stay readable.
const LONG_TOKEN = /^[A-Za-z0-9_-]{24,}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Route words such as `oauth-authorization-server` (RFC 8414 §3). A random base64url segment is
// all lowercase letters and hyphens with a probability of about 1e-9 at 24 characters, and
// below 1e-16 for the 43-character tokens of sign-in and invitation links.
const ROUTE_WORDS = /^[a-z]+(?:-[a-z]+)*$/;

function looksLikeToken(segment: string): boolean {
  return LONG_TOKEN.test(segment) && !UUID.test(segment) && !ROUTE_WORDS.test(segment);
}

/** Returns the request path with every token-like segment replaced, for logs. */
export function loggablePath(path: string): string {
  const withoutQuery = path.split('?')[0] ?? '';
  return withoutQuery
    .split('/')
    .map((segment) => (looksLikeToken(segment) ? '[redacted]' : segment))
    .join('/');
}
