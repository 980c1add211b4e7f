import { inflateRawSync } from 'node:zlib';
import { Client } from 'pg';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import { createAdminToken, createTestDatabase, freePort, Stack, startNats, toBase64 } from '@bridgekeeper/testing';
import { BENCH_BROWSER, keycloakShapedResponse } from './lib/keycloak-response';

const IDP = 'http://localhost:8080/realms/bridgekeeper';
async function main() {
  const nats = await startNats();
  const pg = await createTestDatabase('bk_prof');
  const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
  const base = `http://localhost:${ports.auth}`;
  const stack = new Stack({
    natsUrl: nats.url,
    databaseUrl: pg.url,
    ports,
    extraEnv: { auth: { AUTH_SAML_VALIDATION_THREADS: process.env.THREADS ?? '1', AUTH_LOGIN_RATE_LIMIT_PER_MINUTE: '1000000' } },
  });
  await stack.start();
  const token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
  const idpKeys = await generateSigningKeyPair('bench idp');
  await fetch(`${stack.services.auth.url}/api/v1/idps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'bench', name: 'Bench', manual: { entityId: IDP, ssoUrl: `${IDP}/protocol/saml`, certificates: [idpKeys.certificatePem] } }),
  });
  const acs = `${base}/saml/bench/acs`;
  for (let i = 0; i < 12; i++) {
    const start = await fetch(`${stack.services.auth.url}/login?idp=bench&returnTo=/session`, { redirect: 'manual', headers: { cookie: BENCH_BROWSER } });
    const to = new URL(start.headers.get('location')!);
    const requestId = /ID="([^"]+)"/.exec(inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString())![1];
    const xml = keycloakShapedResponse({
      keys: idpKeys,
      idpEntityId: IDP,
      spEntityId: `${base}/saml/bench/metadata`,
      acsUrl: acs,
      inResponseTo: requestId,
      nameId: `u${i % 3}`,
    });
    const t = performance.now();
    const res = await fetch(acs, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: BENCH_BROWSER },
      body: new URLSearchParams({ SAMLResponse: toBase64(xml), RelayState: to.searchParams.get('RelayState')! }),
    });
    console.log(i, res.status, (performance.now() - t).toFixed(1), 'ms');
  }
  const sql = new Client({ connectionString: pg.url });
  await sql.connect();
  const { rows } = await sql.query(
    `SELECT t.id, s.step, s.at FROM auth.login_trace_steps s JOIN auth.login_traces t ON t.id = s.trace_id ORDER BY t.started_at DESC, s.id LIMIT 60`,
  );
  const byTrace = new Map<string, { step: string; at: Date }[]>();
  for (const r of rows) byTrace.set(r.id, [...(byTrace.get(r.id) ?? []), r]);
  for (const steps of [...byTrace.values()].slice(0, 4))
    console.log(steps.map((st, i) => `${st.step}${i ? ` +${st.at.getTime() - steps[i - 1].at.getTime()}` : ''}`).join('  '));
  await sql.end();
  await stack.stop();
  await pg.drop();
  await nats.stop();
}
void main();
