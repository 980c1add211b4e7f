import type { Params } from 'nestjs-pino';

/** Paths pino blanks out: credentials, cookies, SAML messages, tokens, secrets. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'req.body',
  '*.SAMLResponse',
  '*.SAMLRequest',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.token',
  '*.accessToken',
  '*.idToken',
  '*.privateKey',
  '*.attributes',
];

export function loggerParams(service: string, log: { level: string; pretty: boolean }): Params {
  return {
    pinoHttp: {
      name: service,
      level: log.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
      // Query strings carry SAMLRequest/SAMLResponse and returnTo: log the path only.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      },
      transport: log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
    },
  };
}
