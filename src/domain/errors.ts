/**
 * The failure of a domain rule, with a stable dotted code for the admin API
 * (`{"code": "group.name_taken", "message": "…"}`), the HTTP status it maps to, and a message
 * written for the person who has to fix the input.
 */
export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly code: string,
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export const notFound = (kind: string, id: string): DomainError =>
  new DomainError(`${kind}.not_found`, 404, `${kind} ${JSON.stringify(id)} was not found`);

export const invalid = (code: string, message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError(code, 400, message, details);

export const conflict = (code: string, message: string): DomainError => new DomainError(code, 409, message);

/** Throws the given error unless the condition holds, and narrows the type when it does. */
export function assertThat(condition: unknown, error: DomainError | (() => DomainError)): asserts condition {
  if (!condition) throw typeof error === 'function' ? error() : error;
}
