/**
 * Where a login may send the browser afterwards: a path on our own origin, or an absolute
 * URL on an allow-listed origin. Anything else (other hosts, `//evil`, `javascript:`,
 * backslash tricks) is refused, so a login is never an open redirect.
 */
export function safeReturnTo(raw: unknown, ownOrigin: string, allowedOrigins: readonly string[]): string | null {
  if (raw === undefined || raw === null || raw === '') return '/';
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  if (/[\u0000-\u001f\\]/.test(raw)) return null;
  if (raw.startsWith('/') && !raw.startsWith('//')) {
    const url = new URL(raw, ownOrigin);
    const path = `${url.pathname}${url.search}${url.hash}`;
    // Judged as it will be sent: dot-segments collapse (`/.//evil` resolves to `//evil`), so the
    // normalised path must still be a path on our own origin, not a protocol-relative URL.
    if (url.origin !== ownOrigin || path.startsWith('//') || path.startsWith('/\\')) return null;
    return path;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return allowedOrigins.includes(url.origin) ? url.toString() : null;
}
