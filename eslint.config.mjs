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
      {
        sourceTag: 'layer:edge',
        onlyDependOnLibsWithTags: ['layer:contracts', 'layer:infra', 'layer:platform', 'layer:edge', ...(tests ? ['layer:testing'] : [])],
      },
      { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:contracts', 'layer:domain', ...(tests ? ['layer:testing'] : [])] },
      ...(tests ? [] : [{ sourceTag: 'type:app', notDependOnLibsWithTags: ['layer:testing'] }]),
    ],
  };
}

const DIRECTORY_TABLES = '/^(UserEntity|GroupEntity|MembershipEntity|UserPropertyEntity)$/';
/** Writes to the directory's tables, however spelled: on an EntityManager, a repository, a query builder or the batch helper. */
const DIRECTORY_WRITES = [
  `CallExpression[callee.property.name=/^(insert|update|delete|upsert|save|remove|softDelete|increment|decrement|clear)$/][arguments.0.name=${DIRECTORY_TABLES}]`,
  `CallExpression[callee.property.name=/^(insert|update|delete|upsert|save|remove|softDelete|increment|decrement|clear)$/][callee.object.callee.property.name='getRepository']`,
  `CallExpression[callee.property.name=/^(into|update|from)$/][arguments.0.name=${DIRECTORY_TABLES}][callee.object.callee.property.name=/^(insert|delete|createQueryBuilder)$/]`,
  `CallExpression[callee.name=/^(insertMany|insertWrite)$/][arguments.1.name=${DIRECTORY_TABLES}]`,
];

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
  // The directory's rules decide changes; one writer (apps/directory/src/store) writes users, groups,
  // memberships and properties, with their audit entries and events. Anywhere else in the app, a
  // write to those tables is an error. The rules (apps/directory/src/domain) know no database or Nest.
  {
    files: ['apps/directory/src/**/*.ts'],
    ignores: ['apps/directory/src/store/**', 'apps/directory/src/migrations/**', 'apps/directory/src/cli.ts', '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...DIRECTORY_WRITES.map((selector) => ({
          selector,
          message: 'users, groups, memberships and properties are written only by DirectoryWriter (apps/directory/src/store): hand it DirectoryChanges',
        })),
      ],
    },
  },
  {
    files: ['apps/directory/src/domain/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'typeorm',
                '@nestjs/*',
                'nats',
                '@bridgekeeper/data',
                '@bridgekeeper/messaging',
                '@bridgekeeper/platform',
                '@bridgekeeper/admin-api',
                '../*',
                '!../domain/*',
              ],
              message: "the directory's rules are plain TypeScript: no database, Nest, NATS or app module here",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': ['error', boundaries({ tests: true })],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
    },
  },
);
