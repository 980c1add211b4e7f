/**
 * Three projects: `unit` (*.spec.ts, no network), `int` (*.int-spec.ts: real PostgreSQL and
 * nats-server) and `e2e` (test/*.e2e-spec.ts: real Keycloak and Chromium).
 * ESM-only packages are transformed by SWC; the allow-list matches pnpm's .pnpm layout.
 */
const esm = ['jose', 'openid-client', 'oauth4webapi', 'oidc-provider', '@keycloak', 'keycloak-admin-client', '@microsoft', 'kiota', 'url-template', 'url-join', 'camelize-ts', 'uuid', 'std-uritemplate'];
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/)?(${esm.join('|')}))`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  moduleNameMapper: { '^@bridgekeeper/(.*)$': '<rootDir>/libs/$1/src/index.ts' },
  rootDir: __dirname,
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'], slowTestThreshold: 30, setupFilesAfterEnv: ['<rootDir>/scripts/jest/int.setup.js'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 120, setupFilesAfterEnv: ['<rootDir>/scripts/jest/e2e.setup.js'] },
  ],
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
};
