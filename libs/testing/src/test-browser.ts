/**
 * A browser for HTTP-level tests: it keeps the cookies each host sets (by host name, ports aside,
 * as browsers do; no SameSite rules, which a test chooses by which browser it sends a request
 * from) and follows no redirects. Two instances are two people's browsers.
 */
export class TestBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const jar = this.jar(target.hostname);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      const gone = value === '' || attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (gone) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** A cookie this browser holds for `host` (a host name or a URL). */
  cookie(host: string, name: string): string | undefined {
    return this.jar(host.includes('://') ? new URL(host).hostname : host).get(name);
  }

  setCookie(host: string, name: string, value: string): void {
    this.jar(host.includes('://') ? new URL(host).hostname : host).set(name, value);
  }

  private jar(hostname: string): Map<string, string> {
    let jar = this.jars.get(hostname);
    if (!jar) this.jars.set(hostname, (jar = new Map()));
    return jar;
  }
}
