/**
 * Target safety (DESIGN §5 "secure by default"): outgoing webhooks to loopback, private,
 * link-local and other non-public ranges are refused unless `delivery.allowPrivateTargets` is
 * true. Checked three times: statically on the URL (config and API), on the resolved addresses
 * when a subscription is created or the server starts, and on every connection (`safeLookup`),
 * so that a name that later resolves to an internal address (DNS rebinding) is refused too.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { SwitchboardError } from '../../core/index.js';

/** One non-public range: its own `net.BlockList`, so that a match can name the range. */
interface Range {
  readonly family: 4 | 6;
  readonly list: BlockList;
  readonly cidr: string;
  readonly what: string;
}

function range(cidr: string, what: string): Range {
  const [addr = '', bits = ''] = cidr.split('/');
  const family = isIP(addr) === 6 ? 6 : 4;
  const list = new BlockList();
  list.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return { family, list, cidr, what };
}

/** IANA special-purpose ranges that are not globally reachable (RFC 6890 and successors). */
const RANGES: readonly Range[] = [
  range('0.0.0.0/8', '"this network" address'),
  range('10.0.0.0/8', 'private address (RFC 1918)'),
  range('100.64.0.0/10', 'shared (carrier-grade NAT) address'),
  range('127.0.0.0/8', 'loopback address'),
  range('169.254.0.0/16', 'link-local address'),
  range('172.16.0.0/12', 'private address (RFC 1918)'),
  range('192.0.0.0/24', 'IETF protocol address'),
  range('192.0.2.0/24', 'documentation address'),
  range('192.88.99.0/24', '6to4 relay address'),
  range('192.168.0.0/16', 'private address (RFC 1918)'),
  range('198.18.0.0/15', 'benchmarking address'),
  range('198.51.100.0/24', 'documentation address'),
  range('203.0.113.0/24', 'documentation address'),
  range('224.0.0.0/4', 'multicast address'),
  range('240.0.0.0/4', 'reserved address'),
  range('::/128', 'unspecified address'),
  range('::1/128', 'loopback address'),
  range('100::/64', 'discard-only address'),
  range('2001:db8::/32', 'documentation address'),
  range('fc00::/7', 'unique local (private) address'),
  range('fe80::/10', 'link-local address'),
  range('fec0::/10', 'site-local address'),
  range('ff00::/8', 'multicast address'),
];

/** IPv6 ranges whose addresses carry an IPv4 address, and where its 32 bits sit (from the low end). */
const EMBEDDING: readonly { readonly list: BlockList; readonly shift: bigint }[] = [
  { cidr: '::ffff:0:0/96', shift: 0n }, // IPv4-mapped
  { cidr: '::/96', shift: 0n }, // IPv4-compatible (deprecated)
  { cidr: '64:ff9b::/96', shift: 0n }, // NAT64
  { cidr: '2002::/16', shift: 80n }, // 6to4
].map(({ cidr, shift }) => ({ list: range(cidr, '').list, shift }));

/** The 128 bits of an IPv6 address that `isIP` accepted (its embedded IPv4 tail, if any, as two groups). */
function ipv6Value(ip: string): bigint {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text)?.[1];
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/**
 * Why an IP address is not a public target, or `undefined` when it is public. Ranges are matched
 * by `net.BlockList`; IPv4 addresses embedded in IPv6 (mapped `::ffff:a.b.c.d`, compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by their IPv4 address.
 */
export function nonPublicReason(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const address = ip.replace(/%.*$/, '');
  // Only the ranges of the address's own family: an IPv4 list would also match IPv4-mapped IPv6
  // addresses, which are named below by the address they embed.
  const r = RANGES.find((x) => x.family === family && x.list.check(address, type));
  if (r) return `a ${r.what} (${r.cidr})`;
  if (family === 4) return undefined;
  const embedding = EMBEDDING.find((e) => e.list.check(address, 'ipv6'));
  if (!embedding) return undefined;
  const v4 = formatV4((ipv6Value(address) >> embedding.shift) & 0xffffffffn);
  const inner = nonPublicReason(v4);
  return inner && `an IPv6 address embedding ${v4}, ${inner}`;
}

export const PRIVATE_TARGETS_HINT = 'outgoing webhooks to loopback, private and link-local ranges are refused unless delivery.allowPrivateTargets is true';

/** The host of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks a target URL without resolving names: an absolute http(s) URL without credentials, and
 * unless `allowPrivate`, not an IP literal of a non-public range nor a `localhost` name.
 * Answers the problem in words, or `undefined` when the URL is acceptable.
 */
export function urlProblem(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `an http:// or https:// URL (not ${url.protocol})`;
  if (url.username || url.password) return 'a URL without user:password@ (the receiver authenticates Switchboard by the signature)';
  if (allowPrivate) return undefined;
  const host = hostOf(url);
  if (isIP(host)) {
    const why = nonPublicReason(host);
    return why && `a public target; ${host} is ${why}, and ${PRIVATE_TARGETS_HINT}`;
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return `a public target; ${host} names the loopback interface, and ${PRIVATE_TARGETS_HINT}`;
  return undefined;
}

export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (getaddrinfo, as connections use it). */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/** The first resolved address that is not public, with the reason. */
export function firstNonPublic(addresses: readonly LookupAddress[]): { address: string; why: string } | undefined {
  for (const a of addresses) {
    const why = nonPublicReason(a.address);
    if (why) return { address: a.address, why };
  }
  return undefined;
}

/** A connection to a refused target (its name now resolves to a non-public address); `code` tells it from network errors. */
export class TargetRefusedError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_SUBSCRIPTION_TARGET_REFUSED', message);
    this.name = 'TargetRefusedError';
  }
}

/** A problem of a target found by `resolvedProblem`. */
export interface TargetProblem {
  /** `invalid`: not a usable URL; `refused`: a non-public target; `unresolved`: the host does not resolve. */
  readonly kind: 'invalid' | 'refused' | 'unresolved';
  /** What was expected, in words. */
  readonly expected: string;
}

/**
 * Checks the URL and, unless private targets are allowed, resolves its host and checks every
 * address. Answers the problem, or `undefined` when the target is acceptable.
 */
export async function resolvedProblem(raw: string, allowPrivate: boolean, resolver: Resolver = systemResolver): Promise<TargetProblem | undefined> {
  const invalid = urlProblem(raw, true);
  if (invalid) return { kind: 'invalid', expected: invalid };
  if (allowPrivate) return undefined;
  const staticProblem = urlProblem(raw, false);
  if (staticProblem) return { kind: 'refused', expected: staticProblem };
  const host = hostOf(new URL(raw));
  if (isIP(host)) return undefined;
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolver(host);
  } catch (err) {
    return { kind: 'unresolved', expected: `a host name that resolves; ${host} does not (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  const bad = firstNonPublic(addresses);
  return bad && { kind: 'refused', expected: `a public target; ${host} resolves to ${bad.address}, ${bad.why}, and ${PRIVATE_TARGETS_HINT}` };
}

/**
 * A `lookup` for outgoing connections (undici → net.connect) that refuses non-public addresses
 * unless allowed: the check happens on the addresses actually connected to.
 */
export function safeLookup(allowPrivate: boolean, resolver: Resolver = systemResolver): LookupFunction {
  return (hostname: string, options: LookupOptions | LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolver(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : [...addresses];
        const bad = allowPrivate ? undefined : firstNonPublic(wanted);
        if (bad) {
          callback(new TargetRefusedError(`refused: ${hostname} resolves to ${bad.address}, ${bad.why}; ${PRIVATE_TARGETS_HINT}`), '', 0);
          return;
        }
        const first = wanted[0];
        if (!first) {
          const err: NodeJS.ErrnoException = new Error(`no address for ${hostname}`);
          err.code = 'ENOTFOUND';
          callback(err, '', 0);
          return;
        }
        if (options.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
