// Lint: typescript-eslint's recommended rules, and Nx module boundaries that mean something:
// apps never import apps; an app imports shared libs only; libs import shared libs only.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Which project may import which (tags in each project.json). Scopes: a service's own libs are not
 * used by the other services. Layers, bottom up, each importing only the layers below it and its own:
 * `layer:contracts` (schemas and pure rules shared by everyone: contracts, names, saml-assertion)
 * imports no other lib; `layer:infra` (NATS and the database: messaging, data) imports contracts and
 * infra; `layer:platform` (what every service runs on: config, logging, problem+json, health,
 * metrics, bootstrap, route table and access marks, input gate, secrets: platform) imports contracts,
 * infra and platform; `layer:edge` (the admin API: guard, tokens, zod decorators, audit listing:
 * admin-api) imports contracts, infra, platform and edge. So data never imports platform and
 * platform never imports the admin API. `layer:domain` (protocol and provisioning logic: saml,
 * oidc, keycloak, provisioning-model) imports contracts and domain, never infra, platform or edge
 * (no Nest, NATS or database there); apps import any lib. `libs/testing` only from tests.
 */
function boundaries({ tests }) {
  return {
    allow: [],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['scope:auth', 'scope:shared'] },
      { sourceTag: 'scope:provisioning', onlyDependOnLibsWithTags: ['scope:provisioning', 'scope:shared'] },
      { sourceTag: 'scope:directory', onlyDependOnLibsWithTags: ['scope:directory', 'scope:shared'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: ['layer:contracts', ...(tests ? ['layer:testing'] : [])] },
      { sourceTag: 'layer:infra', onlyDependOnLibsWithTags: ['layer:contracts', 'layer:infra', ...(tests ? ['layer:testing'] : [])] },
      { sourceTag: 'layer:platform', onlyDependOnLibsWithTags: ['layer:contracts', 'layer:infra', 'layer:platform', ...(tests ? ['layer:testing'] : [])] },
      { sourceTag: 'layer:edge', onlyDependOnLibsWithTags: ['layer:contracts', 'layer:infra', 'layer:platform', 'layer:edge', ...(tests ? ['layer:testing'] : [])] },
      { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:contracts', 'layer:domain', ...(tests ? ['layer:testing'] : [])] },
      ...(tests ? [] : [{ sourceTag: 'type:app', notDependOnLibsWithTags: ['layer:testing'] }]),
    ],
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'data/**', 'coverage/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', boundaries({ tests: false })],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-non-null-assertion': 'off', '@nx/enforce-module-boundaries': ['error', boundaries({ tests: true })] },
  },
  { files: ['**/*.js', '**/*.mjs'], rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }] } },
);
