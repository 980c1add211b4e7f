import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Fetches a configuration document (IdP metadata, discovery) with limits: http(s) only,
 * a time limit, a size cap, and no redirects to other hosts.
 */
export interface SafeFetchOptions {
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** Loopback, private and link-local addresses are refused unless allowed (dev: Keycloak on 127.0.0.1). */
  allowPrivate?: boolean;
}

/** Loopback, RFC 1918 / ULA private, link-local, CGNAT and unspecified addresses. */
export function isPrivateAddress(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const v6 = ip.toLowerCase();
  return (
    v6 === '::' ||
    v6 === '::1' ||
    v6.startsWith('fc') ||
    v6.startsWith('fd') ||
    v6.startsWith('fe8') ||
    v6.startsWith('fe9') ||
    v6.startsWith('fea') ||
    v6.startsWith('feb')
  );
}

export class SafeFetchError extends Error {}

async function refusePrivate(url: URL): Promise<void> {
  const name = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(name) ? [name] : (await lookup(name, { all: true })).map((a) => a.address);
  const blocked = addresses.find(isPrivateAddress);
  if (blocked)
    throw new SafeFetchError(`${url.hostname} resolves to the private or loopback address ${blocked}, which is refused (allow it in the configuration)`);
}

/**
 * A fetch for protocol calls to an IdP (token, userinfo, JWKS endpoints): http(s) only, the same
 * private-address guard as configuration documents, and a time limit.
 */
export function guardedFetch(opts: Pick<SafeFetchOptions, 'allowPrivate' | 'timeoutMs'> = {}): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SafeFetchError(`${url.protocol} URLs are refused`);
    if (!opts.allowPrivate) await refusePrivate(url);
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };
}

export async function safeFetchText(rawUrl: string, opts: SafeFetchOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  let url = new URL(rawUrl);
  const host = url.host;
  for (let hop = 0; hop <= (opts.maxRedirects ?? 3); hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SafeFetchError(`${url.protocol} URLs are refused`);
    if (url.host !== host) throw new SafeFetchError(`redirect to another host (${url.host}) refused`);
    if (!opts.allowPrivate) await refusePrivate(url);
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      url = new URL(res.headers.get('location')!, url);
      continue;
    }
    if (!res.ok) throw new SafeFetchError(`${url} answered HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new SafeFetchError(`${url} is larger than ${maxBytes} bytes`);
    const reader = res.body?.getReader();
    if (!reader) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new SafeFetchError(`${url} is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  throw new SafeFetchError('too many redirects');
}
