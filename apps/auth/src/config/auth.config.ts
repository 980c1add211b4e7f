import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { sourceIdSchema } from '@bridgekeeper/contracts';
import { envBool, isPasswordHash, masterKeyEnv, parseEnv, port, sharedConfig, sharedEnv } from '@bridgekeeper/platform';

const url = z.url({ protocol: /^https?$/ });

export const authEnvSchema = z.object({
  ...sharedEnv,
  AUTH_PORT: port(3000).describe('The port auth listens on.'),
  AUTH_HOST: z.string().default('0.0.0.0').describe('The address auth listens on.'),
  AUTH_PUBLIC_URL: url
    .default('http://localhost:3000')
    .describe('The URL browsers use to reach auth; the SP entity id, the ACS URL and the cookies derive from it.'),
  AUTH_ALLOWED_RETURN_ORIGINS: z.string().default('').describe("Other origins `returnTo` may point at (comma-separated), besides `AUTH_PUBLIC_URL`'s own."),
  AUTH_SAML_IDP_ID: sourceIdSchema
    .default('keycloak')
    .describe('The SAML IdP created at first start (more through `/api/v1/idps`): its id in URLs (`/saml/<id>/acs`).'),
  AUTH_SAML_IDP_NAME: z.string().min(1).default('Keycloak').describe('Its name on the IdP chooser.'),
  AUTH_SAML_IDP_METADATA_URL: url
    .default('http://127.0.0.1:8080/realms/bridgekeeper/protocol/saml/descriptor')
    .describe("Its metadata URL (the dev realm's descriptor by default), fetched on first use: http(s), 5 s, 1 MiB, same-host redirects only."),
  AUTH_SAML_METADATA_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .default(3_600_000)
    .describe('How often metadata URLs are fetched again; a failed refresh keeps the last good copy and is shown as `metadataError`.'),
  AUTH_SAML_BINDING: z.enum(['HTTP-Redirect', 'HTTP-POST']).default('HTTP-Redirect').describe('Its AuthnRequest binding.'),
  AUTH_METADATA_ALLOW_PRIVATE: envBool
    .optional()
    .describe('Metadata URLs on loopback and private addresses (an SSRF guard when off). Unset: allowed except in production.'),
  AUTH_CERT_EXPIRY_WARN_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(365)
    .default(30)
    .describe('IdP signing certificates expiring within this many days show `status: expiring`.'),
  AUTH_SAML_CLOCK_SKEW_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300_000)
    .default(30_000)
    .describe('Accepted clock skew between auth and the IdPs (never below 5 s).'),
  AUTH_SAML_REQUEST_TTL_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .default(10 * 60_000)
    .describe('How long a started login may take.'),
  AUTH_SAML_MAX_ASSERTION_AGE_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .optional()
    .describe(
      'The oldest `IssueInstant` a SAML Response and its assertion may carry, plus the clock skew (refused as `too_old`); one in the future beyond the skew is refused as `issued_in_future`. Unset: `AUTH_SAML_REQUEST_TTL_MS` in seconds (an older one answers no live login).',
    ),
  AUTH_SAML_VALIDATION_THREADS: z.coerce
    .number()
    .int()
    .min(0)
    .max(64)
    .optional()
    .describe('Worker threads that verify SAML responses off the event loop; `0` verifies inline. Unset: CPUs − 1, at least 2 and at most 4.'),
  AUTH_OIDC_IDP_ID: sourceIdSchema
    .default('keycloak-oidc')
    .describe('The OIDC IdP created at first start when `AUTH_OIDC_ISSUER` is set: its id in URLs (`/oidc/<id>/callback`).'),
  AUTH_OIDC_IDP_NAME: z.string().min(1).default('Keycloak (OpenID Connect)').describe('Its name on the IdP chooser.'),
  AUTH_OIDC_ISSUER: url
    .optional()
    .describe('The issuer of an OIDC IdP created at first start (more through `/api/v1/idps`), e.g. `http://localhost:8080/realms/bridgekeeper`. Unset: none.'),
  AUTH_OIDC_CLIENT_ID: z.string().min(1).optional().describe("Its confidential client's id; required with `AUTH_OIDC_ISSUER`."),
  AUTH_OIDC_CLIENT_SECRET: z.string().min(1).optional().describe("Its confidential client's secret (stored encrypted); required with `AUTH_OIDC_ISSUER`."),
  AUTH_OIDC_ALLOW_HTTP: envBool.optional().describe('OIDC IdPs on plain http (the dev Keycloak). Unset: allowed except in production.'),
  AUTH_OIDC_MAX_ID_TOKEN_AGE_S: z.coerce
    .number()
    .int()
    .min(10)
    .max(86_400)
    .default(300)
    .describe(
      'The oldest ID token accepted (its `iat`, plus the clock skew; refused as `too_old`): it comes straight from the token endpoint, so seconds old.',
    ),
  AUTH_LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(300)
    .describe(
      'Requests per minute from one client address to the routes that start or answer a login (`/login`, the ACS, the OIDC callback, SLO; all together): each writes a login state or trace. 429 beyond.',
    ),
  AUTH_PROVISIONING_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(10_000)
    .describe("How long a login waits for provisioning's answer before it shows an error page."),
  AUTH_BREAK_GLASS_USERNAME: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('The local directory user who may sign in with a password when the IdP is down. Off unless both break-glass variables are set.'),
  AUTH_BREAK_GLASS_PASSWORD_HASH: z
    .string()
    .refine(isPasswordHash, 'must be a hash made by `pnpm bk hash-password`')
    .optional()
    .describe("That user's password as a scrypt hash made by `pnpm bk hash-password`; never the password itself."),
  AUTH_LOGIN_TRACE_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(30)
    .describe('How long login traces (with their redacted SAML messages and attributes) are kept.'),
  AUTH_SESSION_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .default(8 * 3600)
    .describe('Session lifetime.'),
  AUTH_SESSION_COOKIE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional()
    .describe(
      "The session cookie's name. Unset: `__Host-bk_session` with secure cookies (the `__Host-` prefix: no subdomain can set or shadow it), `bk_session` otherwise.",
    ),
  AUTH_COOKIE_SECURE: envBool
    .optional()
    .describe(
      'The `Secure` cookie flag; with it the login cookie is `__Host-bk_login`, `SameSite=None` (see SECURITY.md). Unset: on when `AUTH_PUBLIC_URL` is https.',
    ),
  AUTH_MASTER_KEY: masterKeyEnv.describe(
    '32 bytes, base64 (`openssl rand -base64 32`): encrypts private keys at rest. Unset in development: one is generated in `DATA_DIR`.',
  ),
});

export type AuthConfig = ReturnType<typeof loadAuthConfig>;

/** Auth's one config boundary: nothing else reads process.env. */
/**
 * SAML verification threads by default: CPUs − 1, at least 2 and at most 4. Verification is most
 * of a login's CPU; with one thread on two cores, logins queue for it while the other core has
 * time to spare (bench/JOURNAL.md, round 14: about a tenth more logins per second flat out with
 * two, the worst event-loop delay still under 40 ms).
 */
export function defaultValidationThreads(cpus: number): number {
  return Math.min(4, Math.max(2, cpus - 1));
}

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(
    authEnvSchema
      .refine((v) => v.NODE_ENV !== 'production' || !!v.AUTH_MASTER_KEY, { path: ['AUTH_MASTER_KEY'], message: 'is required when NODE_ENV=production' })
      .refine((v) => !v.AUTH_OIDC_ISSUER || (!!v.AUTH_OIDC_CLIENT_ID && !!v.AUTH_OIDC_CLIENT_SECRET), {
        path: ['AUTH_OIDC_CLIENT_ID'],
        message: 'AUTH_OIDC_CLIENT_ID and AUTH_OIDC_CLIENT_SECRET are required with AUTH_OIDC_ISSUER',
      }),
    env,
  );
  const publicUrl = e.AUTH_PUBLIC_URL.replace(/\/$/, '');
  const secureCookies = e.AUTH_COOKIE_SECURE ?? publicUrl.startsWith('https:');
  const ownOrigin = new URL(publicUrl).origin;
  const shared = sharedConfig(e);
  return {
    ...shared,
    adminApi: { ...shared.adminApi, publicRateLimitPerMinute: e.AUTH_LOGIN_RATE_LIMIT_PER_MINUTE },
    service: 'auth' as const,
    http: { port: e.AUTH_PORT, host: e.AUTH_HOST },
    publicUrl,
    allowedReturnOrigins: [
      ownOrigin,
      ...e.AUTH_ALLOWED_RETURN_ORIGINS.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((o) => new URL(o).origin),
    ],
    saml: {
      idps: [{ id: e.AUTH_SAML_IDP_ID, name: e.AUTH_SAML_IDP_NAME, metadataUrl: e.AUTH_SAML_IDP_METADATA_URL }],
      metadataRefreshMs: e.AUTH_SAML_METADATA_REFRESH_MS,
      binding: e.AUTH_SAML_BINDING,
      clockSkewMs: e.AUTH_SAML_CLOCK_SKEW_MS,
      requestTtlMs: e.AUTH_SAML_REQUEST_TTL_MS,
      maxAssertionAgeMs: e.AUTH_SAML_MAX_ASSERTION_AGE_S !== undefined ? e.AUTH_SAML_MAX_ASSERTION_AGE_S * 1000 : e.AUTH_SAML_REQUEST_TTL_MS,
      metadataAllowPrivate: e.AUTH_METADATA_ALLOW_PRIVATE ?? e.NODE_ENV !== 'production',
      certificateWarnDays: e.AUTH_CERT_EXPIRY_WARN_DAYS,
      validationThreads: e.AUTH_SAML_VALIDATION_THREADS ?? defaultValidationThreads(availableParallelism()),
    },
    oidc: {
      idp: e.AUTH_OIDC_ISSUER
        ? {
            id: e.AUTH_OIDC_IDP_ID,
            name: e.AUTH_OIDC_IDP_NAME,
            issuer: e.AUTH_OIDC_ISSUER,
            clientId: e.AUTH_OIDC_CLIENT_ID!,
            clientSecret: e.AUTH_OIDC_CLIENT_SECRET!,
          }
        : null,
      allowHttp: e.AUTH_OIDC_ALLOW_HTTP ?? e.NODE_ENV !== 'production',
      maxIdTokenAgeMs: e.AUTH_OIDC_MAX_ID_TOKEN_AGE_S * 1000,
    },
    provisioningTimeoutMs: e.AUTH_PROVISIONING_TIMEOUT_MS,
    loginTraceRetentionDays: e.AUTH_LOGIN_TRACE_RETENTION_DAYS,
    breakGlass:
      e.AUTH_BREAK_GLASS_USERNAME && e.AUTH_BREAK_GLASS_PASSWORD_HASH
        ? { username: e.AUTH_BREAK_GLASS_USERNAME, passwordHash: e.AUTH_BREAK_GLASS_PASSWORD_HASH }
        : null,
    session: {
      ttlS: e.AUTH_SESSION_TTL_S,
      cookie: e.AUTH_SESSION_COOKIE ?? (secureCookies ? '__Host-bk_session' : 'bk_session'),
      secure: secureCookies,
    },
    masterKey: e.AUTH_MASTER_KEY,
  };
}

export const AUTH_CONFIG = Symbol('AUTH_CONFIG');
