import { readmeEnvVars } from '@bridgekeeper/testing';
import { authEnvSchema, defaultValidationThreads, loadAuthConfig } from './auth.config';

describe('auth config', () => {
  it('documents every variable in docs/reference/configuration.md', () => {
    const documented = readmeEnvVars();
    expect(Object.keys(authEnvSchema.shape).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('builds the typed config with defaults that serve the dev stack', () => {
    const c = loadAuthConfig({});
    expect(c).toMatchObject({
      publicUrl: 'http://localhost:3000',
      http: { port: 3000 },
      session: { secure: false, cookie: 'bk_session' },
      saml: { idps: [{ id: 'keycloak' }] },
    });
    expect(loadAuthConfig({ AUTH_PUBLIC_URL: 'https://sso.example.com/' }).session).toMatchObject({ secure: true, cookie: '__Host-bk_session' });
    expect(loadAuthConfig({ AUTH_PUBLIC_URL: 'https://sso.example.com/', AUTH_SESSION_COOKIE: 'sso' }).session.cookie).toBe('sso');
  });

  it('refuses the reserved source ids as the IdPs it creates at start', () => {
    for (const id of ['local', 'break-glass']) {
      expect(() => loadAuthConfig({ AUTH_SAML_IDP_ID: id })).toThrow(/AUTH_SAML_IDP_ID/);
      expect(() => loadAuthConfig({ AUTH_OIDC_IDP_ID: id })).toThrow(/AUTH_OIDC_IDP_ID/);
    }
  });

  it('verifies SAML responses on CPUs − 1 threads, two at least and four at most, unless told', () => {
    expect([1, 2, 3, 4, 5, 8, 64].map(defaultValidationThreads)).toEqual([2, 2, 2, 3, 4, 4, 4]);
    expect(loadAuthConfig({ AUTH_SAML_VALIDATION_THREADS: '0' }).saml.validationThreads).toBe(0);
    expect(loadAuthConfig({ AUTH_SAML_VALIDATION_THREADS: '1' }).saml.validationThreads).toBe(1);
  });

  it('keeps SAML assertions no older than a login request lives, unless told', () => {
    expect(loadAuthConfig({}).saml.maxAssertionAgeMs).toBe(600_000);
    expect(loadAuthConfig({ AUTH_SAML_REQUEST_TTL_MS: '120000' }).saml.maxAssertionAgeMs).toBe(120_000);
    expect(loadAuthConfig({ AUTH_SAML_MAX_ASSERTION_AGE_S: '90' }).saml.maxAssertionAgeMs).toBe(90_000);
    expect(() => loadAuthConfig({ AUTH_SAML_MAX_ASSERTION_AGE_S: '0' })).toThrow(/AUTH_SAML_MAX_ASSERTION_AGE_S/);
  });

  it('refuses to start with every problem listed', () => {
    expect(() => loadAuthConfig({ AUTH_PORT: '0', AUTH_PUBLIC_URL: 'ftp://x', NODE_ENV: 'production', AUTH_SAML_CLOCK_SKEW_MS: '-1' })).toThrow(
      /AUTH_PORT[\s\S]*AUTH_PUBLIC_URL[\s\S]*AUTH_SAML_CLOCK_SKEW_MS/,
    );
    expect(() => loadAuthConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_MASTER_KEY: is required when NODE_ENV=production/);
    expect(() => loadAuthConfig({ AUTH_MASTER_KEY: 'c2hvcnQ=' })).toThrow(/AUTH_MASTER_KEY: must be 32 bytes/);
  });
});
