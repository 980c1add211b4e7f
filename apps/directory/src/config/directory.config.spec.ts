import { readmeEnvVars } from '@bridgekeeper/testing';
import { directoryEnvSchema, loadDirectoryConfig } from './directory.config';

describe('directory config', () => {
  it('documents every variable in docs/reference/configuration.md', () => {
    const documented = readmeEnvVars();
    expect(Object.keys(directoryEnvSchema.shape).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('defaults to the embedded SQLite store and no seat limit; refuses bad values', () => {
    expect(loadDirectoryConfig({})).toMatchObject({ database: { url: undefined, dataDir: 'data' }, seats: { limit: 0, policy: 'refuse' } });
    expect(() => loadDirectoryConfig({ DATABASE_URL: 'mysql://x', DIRECTORY_SEAT_POLICY: 'maybe' })).toThrow(/DATABASE_URL[\s\S]*DIRECTORY_SEAT_POLICY/);
  });
});
