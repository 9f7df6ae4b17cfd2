import { invalid } from './errors.js';

export const TENANT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/; // RFC 6749 §3.3 scope-token
export const NAME_MAX = 200;

/** Explains why a string is not a tenant ID, or returns undefined when it is one. */
export function tenantIdProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > 64) return 'is longer than 64 characters';
  if (!TENANT_ID_PATTERN.test(value)) return 'may contain only A-Z, a-z, 0-9, ".", "_" and "-"';
  return undefined;
}

export function requireTenantId(value: string): string {
  const problem = tenantIdProblem(value);
  if (problem) throw invalid('tenant.invalid_id', `tenant ID ${JSON.stringify(value)} ${problem}`);
  return value;
}

/** Trims a display name and checks its length; control characters are rejected. */
export function requireName(kind: string, value: string): string {
  const name = value.trim();
  if (name.length === 0) throw invalid(`${kind}.invalid_name`, `${kind} name must not be empty`);
  if (name.length > NAME_MAX) throw invalid(`${kind}.invalid_name`, `${kind} name must be at most ${NAME_MAX} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid(`${kind}.invalid_name`, `${kind} name must not contain control characters`);
  return name;
}

export function requireScope(value: string): string {
  if (!SCOPE_PATTERN.test(value)) {
    throw invalid('scope.invalid', `scope ${JSON.stringify(value)} must be 1-100 printable ASCII characters without spaces, quotes or backslashes`);
  }
  return value;
}
