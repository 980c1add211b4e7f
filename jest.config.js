/**
 * Three projects: `unit` (*.spec.ts, no network), `int` (*.int-spec.ts: real PostgreSQL and
 * nats-server) and `e2e` (test/*.e2e-spec.ts: real Keycloak and Chromium).
 * ESM-only packages are transformed by SWC; the allow-list matches pnpm's .pnpm layout.
 */
// scripts/lib.sh installs node_modules with the Node it pins (.cache/node) and stamps its ABI:
// native addons (better-sqlite3, re2) load only in that ABI, so say so instead of failing deep in a test.
const { existsSync, readFileSync } = require('node:fs');
const stamp = `${__dirname}/node_modules/.bridgekeeper-node-abi`;
const installedFor = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
const runningOn = `node-${process.versions.modules}-${process.platform}-${process.arch}`;
if (installedFor && installedFor !== runningOn) {
  throw new Error(
    `node_modules were installed for ${installedFor}, but jest runs on Node ${process.version} (${runningOn}). ` +
      `Run through the scripts, or put the project's Node first: export PATH="${__dirname}/.cache/node/bin:${__dirname}/.cache/pnpm/bin:$PATH"`,
  );
}
const esm = [
  'jose',
  'openid-client',
  'oauth4webapi',
  'oidc-provider',
  '@keycloak',
  'keycloak-admin-client',
  '@microsoft',
  'kiota',
  'url-template',
  'url-join',
  'camelize-ts',
  'uuid',
  'std-uritemplate',
];
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
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      slowTestThreshold: 30,
      setupFilesAfterEnv: ['<rootDir>/scripts/jest/int.setup.js'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      slowTestThreshold: 120,
      setupFilesAfterEnv: ['<rootDir>/scripts/jest/e2e.setup.js'],
    },
  ],
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
};
