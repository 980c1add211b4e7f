import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { sourceIdSchema } from '@bridgekeeper/contracts';
import { envBool, isPasswordHash, masterKeyEnv, parseEnv, port, sharedConfig, sharedEnv } from '@bridgekeeper/platform';

const url = z.url({ protocol: /^https?$/ });

export const authEnvSchema = z.object({
  ...sharedEnv,
  AUTH_PORT: port(3000),
  AUTH_HOST: z.string().default('0.0.0.0'),
  /** The address browsers use to reach auth; SAML URLs and cookies derive from it. */
  AUTH_PUBLIC_URL: url.default('http://localhost:3000'),
  /** Other origins `returnTo` may point at (comma-separated), besides AUTH_PUBLIC_URL's own. */
  AUTH_ALLOWED_RETURN_ORIGINS: z.string().default(''),
  AUTH_SAML_IDP_ID: sourceIdSchema.default('keycloak'),
  AUTH_SAML_IDP_NAME: z.string().min(1).default('Keycloak'),
  AUTH_SAML_IDP_METADATA_URL: url.default('http://127.0.0.1:8080/realms/bridgekeeper/protocol/saml/descriptor'),
  AUTH_SAML_METADATA_REFRESH_MS: z.coerce.number().int().min(60_000).default(3_600_000),
  AUTH_SAML_BINDING: z.enum(['HTTP-Redirect', 'HTTP-POST']).default('HTTP-Redirect'),
  /** Metadata URLs on loopback/private addresses (SSRF guard). Default: allowed except in production. */
  AUTH_METADATA_ALLOW_PRIVATE: envBool.optional(),
  /** Warn this many days before an IdP signing certificate expires. */
  AUTH_CERT_EXPIRY_WARN_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  AUTH_SAML_CLOCK_SKEW_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
  AUTH_SAML_REQUEST_TTL_MS: z.coerce.number().int().min(60_000).default(10 * 60_000),
  /** The oldest IssueInstant a SAML response and its assertion may carry. Default: AUTH_SAML_REQUEST_TTL_MS (an older one answers no live login). */
  AUTH_SAML_MAX_ASSERTION_AGE_S: z.coerce.number().int().min(1).max(86_400).optional(),
  /** Worker threads that verify SAML responses off the event loop. Default: CPUs − 1, 2 to 4 (defaultValidationThreads); 0 verifies inline. */
  AUTH_SAML_VALIDATION_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  /** An OIDC IdP created at first start when its issuer is set (more through /api/v1/idps). */
  AUTH_OIDC_IDP_ID: sourceIdSchema.default('keycloak-oidc'),
  AUTH_OIDC_IDP_NAME: z.string().min(1).default('Keycloak (OpenID Connect)'),
  AUTH_OIDC_ISSUER: url.optional(),
  AUTH_OIDC_CLIENT_ID: z.string().min(1).optional(),
  AUTH_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** OIDC IdPs on plain http (the dev Keycloak). Default: allowed except in production. */
  AUTH_OIDC_ALLOW_HTTP: envBool.optional(),
  /** The oldest ID token accepted (its `iat`, plus the clock skew): it comes straight from the token endpoint, so seconds old. */
  AUTH_OIDC_MAX_ID_TOKEN_AGE_S: z.coerce.number().int().min(10).max(86_400).default(300),
  /** Requests per minute from one client address to the routes that start or answer a login (all together). */
  AUTH_LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  /** How long a login waits for provisioning's answer before it shows an error page. */
  AUTH_PROVISIONING_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Break-glass: a local directory user who may sign in with a password when the IdP is down. Off unless both are set. */
  AUTH_BREAK_GLASS_USERNAME: z.string().min(1).max(255).optional(),
  /** `pnpm bk hash-password` makes it (scrypt); never the password itself. */
  AUTH_BREAK_GLASS_PASSWORD_HASH: z.string().refine(isPasswordHash, 'must be a hash made by `pnpm bk hash-password`').optional(),
  /** Login traces (with their redacted SAML messages) are kept this many days. */
  AUTH_LOGIN_TRACE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  AUTH_SESSION_TTL_S: z.coerce.number().int().min(60).default(8 * 3600),
  /** Default: `__Host-bk_session` with secure cookies (no subdomain can set or shadow it), `bk_session` otherwise. */
  AUTH_SESSION_COOKIE: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  /** Defaults to true when AUTH_PUBLIC_URL is https. */
  AUTH_COOKIE_SECURE: envBool.optional(),
  /** 32 bytes, base64: encrypts private keys at rest. Required in production; dev keeps one in DATA_DIR. */
  AUTH_MASTER_KEY: masterKeyEnv,
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
      .refine((v) => !v.AUTH_OIDC_ISSUER || (!!v.AUTH_OIDC_CLIENT_ID && !!v.AUTH_OIDC_CLIENT_SECRET), { path: ['AUTH_OIDC_CLIENT_ID'], message: 'AUTH_OIDC_CLIENT_ID and AUTH_OIDC_CLIENT_SECRET are required with AUTH_OIDC_ISSUER' }),
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
    allowedReturnOrigins: [ownOrigin, ...e.AUTH_ALLOWED_RETURN_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean).map((o) => new URL(o).origin)],
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
        ? { id: e.AUTH_OIDC_IDP_ID, name: e.AUTH_OIDC_IDP_NAME, issuer: e.AUTH_OIDC_ISSUER, clientId: e.AUTH_OIDC_CLIENT_ID!, clientSecret: e.AUTH_OIDC_CLIENT_SECRET! }
        : null,
      allowHttp: e.AUTH_OIDC_ALLOW_HTTP ?? e.NODE_ENV !== 'production',
      maxIdTokenAgeMs: e.AUTH_OIDC_MAX_ID_TOKEN_AGE_S * 1000,
    },
    provisioningTimeoutMs: e.AUTH_PROVISIONING_TIMEOUT_MS,
    loginTraceRetentionDays: e.AUTH_LOGIN_TRACE_RETENTION_DAYS,
    breakGlass: e.AUTH_BREAK_GLASS_USERNAME && e.AUTH_BREAK_GLASS_PASSWORD_HASH ? { username: e.AUTH_BREAK_GLASS_USERNAME, passwordHash: e.AUTH_BREAK_GLASS_PASSWORD_HASH } : null,
    session: {
      ttlS: e.AUTH_SESSION_TTL_S,
      cookie: e.AUTH_SESSION_COOKIE ?? (secureCookies ? '__Host-bk_session' : 'bk_session'),
      secure: secureCookies,
    },
    masterKey: e.AUTH_MASTER_KEY,
  };
}

export const AUTH_CONFIG = Symbol('AUTH_CONFIG');
