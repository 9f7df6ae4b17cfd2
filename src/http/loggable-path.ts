// Path segments that look like credentials: one-time sign-in and invitation links carry a
// 256-bit token in the path. UUIDs (our object IDs) stay readable.
const LONG_TOKEN = /^[A-Za-z0-9_-]{24,}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Returns the request path with every token-like segment replaced, for logs. */
export function loggablePath(path: string): string {
  const withoutQuery = path.split('?')[0] ?? '';
  return withoutQuery
    .split('/')
    .map((segment) => (LONG_TOKEN.test(segment) && !UUID.test(segment) ? '[redacted]' : segment))
    .join('/');
}
