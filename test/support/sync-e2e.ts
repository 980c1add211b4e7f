import { waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK } from './keycloak';
import type { ServiceName, Stack } from './stack';

export type AdminCall = (service: ServiceName, method: string, path: string, body?: unknown) => Promise<{ status: number; type: string; body: any }>;

/**
 * An admin token's HTTP client for a test stack: JSON bodies in, JSON (or text) out. The stack
 * and token are read at each call, as tests make them in beforeAll.
 */
export function adminCall(current: () => { stack: Stack; token: string }): AdminCall {
  return async (service, method, path, body) => {
    const { stack, token } = current();
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    return { status: res.status, type, body: text ? (type.includes('json') ? JSON.parse(text) : text) : undefined };
  };
}

/** Starts a run of connector `kc` and waits for it to end (any status but running). */
export async function syncRun(call: AdminCall, query = ''): Promise<any> {
  const started = await call('provisioning', 'POST', `/api/v1/connectors/kc/sync${query}`);
  expect(started.status).toBe(202);
  return waitForRun(call, started.body.id);
}

export const waitForRun = (call: AdminCall, id: string): Promise<any> =>
  waitFor(
    `sync run ${id} to end`,
    async () => {
      const r = (await call('provisioning', 'GET', `/api/v1/sync-runs/${id}`)).body;
      return r.status !== 'running' ? r : null;
    },
    60_000,
    200,
  );

/** Connector `kc` on the dev realm's sync client, syncing the members of `/<root>` (and `department`), on demand only. */
export const devSyncConnector = (root: string, over: Record<string, unknown> = {}) => ({
  id: 'kc',
  idp: 'keycloak',
  baseUrl: KEYCLOAK,
  realm: 'bridgekeeper',
  clientId: 'bridgekeeper-sync',
  clientSecret: 'dev-only-sync-secret-change-me',
  requiredGroups: [`/${root}`],
  attributes: ['department'],
  schedule: '',
  ...over,
});
