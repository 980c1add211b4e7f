import { readmeEnvVars } from '@bridgekeeper/testing';
import { loadProvisioningConfig, provisioningEnvSchema } from './provisioning.config';

describe('provisioning config', () => {
  it('documents every variable in the README', () => {
    const documented = readmeEnvVars();
    expect(Object.keys(provisioningEnvSchema.shape).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('reads per-IdP provisioning models', () => {
    expect(loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=manual, okta = jit' }).models).toEqual({ byIdp: { keycloak: 'manual', okta: 'jit' }, fallback: 'jit' });
    expect(loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=sync' }).models.byIdp).toEqual({ keycloak: 'sync' });
    expect(() => loadProvisioningConfig({ PROVISIONING_MODELS: 'keycloak=scim' })).toThrow(/'keycloak=scim' is not <idp>=jit\|manual\|sync/);
  });
});
