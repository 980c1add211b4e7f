import { join } from 'node:path';
import type * as Connectors from '@bridgekeeper/keycloak';
import { KEYCLOAK } from './support/keycloak';

// The built connector (dist/), whose full read runs on a thread of its own; Jest's TypeScript
// sources read on the calling thread, so only the build shows the two reads agree.
const built = require(join(__dirname, '../dist/libs/keycloak/src/index.js')) as typeof Connectors;
const conn = { baseUrl: KEYCLOAK, realm: 'bridgekeeper', clientId: 'bridgekeeper-sync', clientSecret: 'dev-only-sync-secret-change-me', pageSize: 2 };

describe("Keycloak's whole realm read on its own thread (built connector)", () => {
  it('reads the same users, groups and members as a read on this thread, and reports progress', async () => {
    const kc = new built.KeycloakConnector(conn);
    const phases = new Set<string>();
    const onThread = await kc.snapshot({ attributes: ['department'], onProgress: (phase) => phases.add(phase) });
    const here = await kc.readSnapshot({ attributes: ['department'] });
    expect(onThread.users.length).toBeGreaterThan(0);
    expect(onThread.groups.length).toBeGreaterThan(1);
    const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(onThread.users)).toEqual(byId(here.users));
    expect(byId(onThread.groups)).toEqual(byId(here.groups));
    const members = (s: typeof here) => Object.fromEntries([...s.members].map(([g, ids]) => [g, [...ids].sort()]));
    expect(members(onThread)).toEqual(members(here));
    expect([...onThread.members.values()].some((ids) => ids.length > 2)).toBe(true); // several member pages
    expect([...phases].sort()).toEqual(['groups', 'members', 'users']);
  });

  it("hands back Keycloak's refusal as a KeycloakError, in plain words", async () => {
    const kc = new built.KeycloakConnector({ ...conn, clientSecret: 'wrong' });
    const err = await kc.snapshot().catch((e: Error) => e);
    expect(err).toBeInstanceOf(built.KeycloakError);
    expect((err as Error).message).toMatch(/refused the client credentials of bridgekeeper-sync/);
  });
});
