import { isIPv4, isIPv6 } from 'node:net';

// Address ranges that a URL shown to administrators must not name, because they lead to the
// viewer's own machine or network instead of the developer's public site.
const IPV4_BLOCKED: readonly [prefix: string, bits: number, kind: string][] = [
  ['0.0.0.0', 8, 'unspecified'], // RFC 1122 "this network"
  ['10.0.0.0', 8, 'private'], // RFC 1918
  ['100.64.0.0', 10, 'private'], // RFC 6598 shared address space (carrier-grade NAT)
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // RFC 3927
  ['172.16.0.0', 12, 'private'], // RFC 1918
  ['192.168.0.0', 16, 'private'], // RFC 1918
];

const IPV6_BLOCKED: readonly [prefix: string, bits: number, kind: string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique-local'], // RFC 4193
  ['fe80::', 10, 'link-local'], // RFC 4291
  ['fec0::', 10, 'site-local'], // deprecated by RFC 3879, still private in practice
];

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** Expands an IPv6 address (with an optional dotted IPv4 tail) into its 16 bytes. */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = ipv4Bytes(dotted[1]!) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return groups.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

function inPrefix(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 1) {
    const index = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((bytes[index]! & mask) !== (prefix[index]! & mask)) return false;
  }
  return true;
}

function ipv4Kind(address: string): string | undefined {
  const bytes = ipv4Bytes(address);
  return IPV4_BLOCKED.find(([prefix, bits]) => inPrefix(bytes, ipv4Bytes(prefix), bits))?.[2];
}

function ipv6Kind(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  const direct = IPV6_BLOCKED.find(([prefix, bits]) => inPrefix(bytes, ipv6Bytes(prefix), bits))?.[2];
  if (direct) return direct;

  // IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) and the deprecated IPv4-compatible form
  // (::a.b.c.d) reach the embedded IPv4 address, so that address decides.
  const mapped = inPrefix(bytes, ipv6Bytes('::ffff:0:0'), 96);
  const compatible = inPrefix(bytes, ipv6Bytes('::'), 96);
  if (mapped || compatible) return ipv4Kind(bytes.slice(12).join('.'));
  return undefined;
}

/**
 * Explains why a URL host names the viewer's own machine or a private network, or returns
 * undefined when it does not. Only the literal host is checked: the name is never resolved, so a
 * public DNS name that resolves to a private address passes, which is harmless for a URL the
 * server never fetches.
 */
export function nonPublicHostProblem(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return `must not point at ${host} (loopback host)`;

  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(bare)) {
    const kind = ipv4Kind(bare);
    return kind ? `must not point at ${bare} (${kind} address)` : undefined;
  }
  if (isIPv6(bare)) {
    const kind = ipv6Kind(bare);
    return kind ? `must not point at ${bare} (${kind} address)` : undefined;
  }
  return undefined;
}
