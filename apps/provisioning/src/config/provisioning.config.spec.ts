import { readmeEnvVars } from '@bridgekeeper/testing';
import { loadProvisioningConfig, provisioningEnvSchema } from './provisioning.config';

describe('provisioning config', () => {
  it('documents every variable in docs/reference/configuration.md', () => {
    const documented = readmeEnvVars();
    expect(Object.keys(provisioningEnvSchema.shape).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('reads the Keycloak request time limit, 15 s unless set, at least a second', () => {
    expect(loadProvisioningConfig({}).keycloak.timeoutMs).toBe(15000);
    expect(loadProvisioningConfig({ PROVISIONING_KEYCLOAK_TIMEOUT_MS: '60000' }).keycloak.timeoutMs).toBe(60000);
    expect(() => loadProvisioningConfig({ PROVISIONING_KEYCLOAK_TIMEOUT_MS: '50' })).toThrow(/PROVISIONING_KEYCLOAK_TIMEOUT_MS/);
  });

  it('reads per-IdP provisioning models', () => {
    expect(loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=manual, okta = jit' }).models).toEqual({
      byIdp: new Map([
        ['keycloak', 'manual'],
        ['okta', 'jit'],
      ]),
      fallback: 'jit',
    });
    expect(loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=sync' }).models.byIdp).toEqual(new Map([['keycloak', 'sync']]));
    // An IdP named like a member of Object.prototype finds nothing it did not set.
    const { byIdp } = loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=sync' }).models;
    for (const idp of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(byIdp.get(idp)).toBeUndefined();
    expect(() => loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=scim' })).toThrow(/'keycloak=scim' is not <idp>=jit\|manual\|sync/);
  });
});
