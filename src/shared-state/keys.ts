/**
 * The use of a Redis key. Each purpose has its own key space under the deployment's prefix,
 * so `SCAN prefix:session:*` lists sessions only, and one purpose never reads another's keys.
 */
export type KeyPurpose = 'invalidation' | 'ratelimit' | 'session' | 'oidc' | 'revoked' | 'instance';

/** Builds `PREFIX PURPOSE:PART:PART…`, for example `tenantgate:session:3f1c…`. */
export function namespacedKey(prefix: string, purpose: KeyPurpose, ...parts: string[]): string {
  return `${prefix}${[purpose, ...parts].join(':')}`;
}
