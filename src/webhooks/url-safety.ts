import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A webhook URL the service will not call, with the reason a caller can act on. */
export class UnsafeUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeUrlError';
  }
}

export type HostLookup = (hostname: string) => Promise<string[]>;

const systemLookup: HostLookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private (IPv6 unique local)',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
};

/**
 * Why `address` must not be called, or null for a public unicast address. IPv4-mapped
 * IPv6 is judged as the IPv4 address it carries; every range other than public unicast
 * (including translation and reserved ranges that may reach inside) is refused.
 */
export function addressRefusal(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const ip = ipaddr.process(address);
  if (ip.toString() === '169.254.169.254') return `${address} is the cloud metadata address`;
  const range = ip.range();
  if (range === 'unicast') return null;
  return `${address} is a ${RANGE_NAMES[range] ?? `reserved (${range})`} address`;
}

/** The URL if it is an absolute http(s) URL without credentials; else UnsafeUrlError. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError(`${JSON.stringify(raw)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnsafeUrlError(`only http and https URLs are allowed, not ${url.protocol}`);
  if (url.username || url.password) throw new UnsafeUrlError('URLs with credentials are not allowed: authenticate the call by its signature');
  return url;
}

/** The host of `url` without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks that `url` is one the service may call: http(s), and unless private networks are
 * allowed, an IP literal or a host whose every address is public. DNS may answer
 * differently later, so the connection checks the addresses it uses again.
 */
export async function assertPublicUrl(raw: string, allowPrivateNetworks: boolean, lookup: HostLookup = systemLookup): Promise<URL> {
  const url = parseWebhookUrl(raw);
  if (allowPrivateNetworks) return url;
  const host = hostOf(url);
  if (isIP(host)) {
    const refusal = addressRefusal(host);
    if (refusal) throw new UnsafeUrlError(`${url.origin} is refused: ${refusal}`);
    return url;
  }
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch {
    throw new UnsafeUrlError(`host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw new UnsafeUrlError(`host ${host} does not resolve`);
  for (const address of addresses) {
    const refusal = addressRefusal(address);
    if (refusal) throw new UnsafeUrlError(`host ${host} is refused: ${refusal}`);
  }
  return url;
}
