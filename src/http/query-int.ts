// The highest page offset accepted from a query string. Far past any real list, and low enough
// that `offset` and `page * size` stay exact integers and fit SQLite's and Postgres's integers.
export const MAX_QUERY_OFFSET = 1_000_000_000;

/**
 * Reads a whole number from a paging query parameter. A missing or malformed value gives
 * `fallback`, and any value is clamped into `[min, max]`, so `limit=-1` or a 25-digit offset
 * never reaches SQL.
 */
export function queryInt(value: unknown, options: { fallback: number; min: number; max: number }): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || !/^-?\d+$/.test(text.trim())) return options.fallback;
  return Math.min(Math.max(Number(text.trim()), options.min), options.max);
}
