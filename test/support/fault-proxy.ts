import { createServer, request, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of the real Keycloak that answers 503 to the requests
 * `fails` picks: a network fault in the middle of a run, which Keycloak itself cannot be made
 * to produce on cue. Everything else is forwarded as it is.
 */
export async function faultProxy(target: string, fails: (method: string, url: URL) => boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', upstream);
    if (fails(req.method ?? 'GET', url)) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('injected by the test proxy');
      return;
    }
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
