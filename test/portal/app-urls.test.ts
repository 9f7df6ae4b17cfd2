import { requireHttpsUrl } from '../../src/domain/apps.js';
import { DomainError } from '../../src/domain/errors.js';
import { nonPublicHostProblem } from '../../src/domain/public-url.js';

function rejection(value: string): DomainError {
  try {
    requireHttpsUrl('homepage URL', value);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error(`${value} was accepted`);
}

describe('requireHttpsUrl', () => {
  test.each([
    ['http://example.com/', 'homepage URL must use https://'],
    ['ftp://example.com/', 'homepage URL must use https://'],
    ['javascript:alert(1)', 'homepage URL must use https://'],
    ['example.com', 'homepage URL must be an absolute https:// URL'],
    ['https://user:pw@example.com/', 'homepage URL must not contain a user name or password'],
  ])('rejects %s', (value, message) => {
    const err = rejection(value);
    expect(err.code).toBe('app.invalid_url');
    expect(err.status).toBe(400);
    expect(err.message).toBe(message);
  });

  test.each([
    ['https://localhost/', 'localhost (loopback host)'],
    ['https://LOCALHOST./', 'localhost (loopback host)'],
    ['https://app.localhost/', 'app.localhost (loopback host)'],
    ['https://127.0.0.1/', '127.0.0.1 (loopback address)'],
    ['https://127.1.2.3:8443/x', '127.1.2.3 (loopback address)'],
    ['https://2130706433/', '127.0.0.1 (loopback address)'],
    ['https://0x7f.1/', '127.0.0.1 (loopback address)'],
    ['https://0.0.0.0/', '0.0.0.0 (unspecified address)'],
    ['https://10.1.2.3/', '10.1.2.3 (private address)'],
    ['https://172.16.0.1/', '172.16.0.1 (private address)'],
    ['https://172.31.255.255/', '172.31.255.255 (private address)'],
    ['https://192.168.1.1/', '192.168.1.1 (private address)'],
    ['https://100.64.0.1/', '100.64.0.1 (private address)'],
    ['https://169.254.169.254/latest', '169.254.169.254 (link-local address)'],
    ['https://[::1]/', '::1 (loopback address)'],
    ['https://[::]/', ':: (unspecified address)'],
    ['https://[fd00::1]/', 'fd00::1 (unique-local address)'],
    ['https://[fc12:3456::1]/', 'fc12:3456::1 (unique-local address)'],
    ['https://[fe80::1]/', 'fe80::1 (link-local address)'],
    ['https://[::ffff:127.0.0.1]/', '::ffff:7f00:1 (loopback address)'],
    ['https://[::ffff:10.0.0.1]/', '::ffff:a00:1 (private address)'],
    ['https://[::ffff:169.254.1.1]/', '::ffff:a9fe:101 (link-local address)'],
    ['https://[::127.0.0.1]/', '::7f00:1 (loopback address)'],
  ])('rejects %s as not public', (value, where) => {
    const err = rejection(value);
    expect(err.code).toBe('app.invalid_url');
    expect(err.message).toBe(`homepage URL must not point at ${where}; use the app's public https:// address`);
  });

  test.each([
    'https://example.com/',
    'https://app.example.com:8443/path?q=1',
    'https://93.184.216.34/',
    'https://172.32.0.1/',
    'https://100.128.0.1/',
    'https://[2001:db8::1]/',
    'https://[2606:4700::1111]/',
    'https://localhost.example.com/',
  ])('accepts %s', (value) => {
    expect(requireHttpsUrl('homepage URL', value)).toBe(new URL(value).toString());
  });
});

describe('nonPublicHostProblem', () => {
  test('public IPv4-mapped IPv6 passes', () => {
    expect(nonPublicHostProblem('[::ffff:93.184.216.34]')).toBeUndefined();
  });

  test('host names are never resolved', () => {
    // A name that only DNS could map to a private address is accepted as written.
    expect(nonPublicHostProblem('intranet.example')).toBeUndefined();
  });
});
