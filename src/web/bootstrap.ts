import { createUser } from '../domain/accounts.js';
import type { DomainContext } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import { countUsers } from '../storage/users.js';

export const FIRST_OPERATOR_EMAIL = 'operator@localhost';

/**
 * On a database without any user, creates the first operator and returns a one-time sign-in
 * link for them; returns undefined once any user exists. Two instances starting at once create
 * one operator: the second insert fails on the unique e-mail and returns undefined.
 */
export async function ensureFirstOperator(domain: DomainContext, issuer: string): Promise<{ email: string; url: string; expiresAt: number } | undefined> {
  if ((await countUsers(domain.db)) > 0) return undefined;
  try {
    const { user, link } = await createUser(domain, { id: 'system' }, { networkId: null, email: FIRST_OPERATOR_EMAIL, name: 'First operator' });
    return { email: user.email, url: `${issuer}${link.path}`, expiresAt: link.expiresAt };
  } catch (err) {
    if (err instanceof DomainError && err.code === 'user.email_taken') return undefined;
    throw err;
  }
}
