import { loggablePath } from '../../src/http/loggable-path.js';

describe('loggablePath', () => {
  test('hides a sign-in link token', () => {
    expect(loggablePath('/signin/link/h9e0n0S5ddX2Py_UEdx6U1sXROYoyloJ8VbIsKKxmdM')).toBe('/signin/link/[redacted]');
  });

  test('keeps UUIDs and short words', () => {
    expect(loggablePath('/hub/groups/6a39852d-4ac6-42e7-ae76-e97c600e8a52/connections')).toBe('/hub/groups/6a39852d-4ac6-42e7-ae76-e97c600e8a52/connections');
  });

  test('keeps long route words', () => {
    expect(loggablePath('/.well-known/oauth-authorization-server')).toBe('/.well-known/oauth-authorization-server');
    // The same length with one capital letter or digit is treated as a token.
    expect(loggablePath('/.well-known/oauth-authorization-serveR')).toBe('/.well-known/[redacted]');
  });

  test('drops the query string', () => {
    expect(loggablePath('/portal/invitations/accept?token=abc')).toBe('/portal/invitations/accept');
  });
});
