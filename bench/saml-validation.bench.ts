import saml20 from '@boxyhq/saml20';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { CacheItem } from '@node-saml/node-saml';
import { generateSigningKeyPair, RequestIdStore, SamlServiceProvider, spUrls } from '@bridgekeeper/saml';
import { toBase64 } from '@bridgekeeper/testing';
import { alternate, printTable, saveResult } from './lib/harness';
import { keycloakShapedResponse } from './lib/keycloak-response';

const IDP = 'http://localhost:8080/realms/bridgekeeper';
const PUBLIC_URL = 'http://localhost:3000';

/** Request ids in memory: this bench measures validation, not the database. */
class MemoryStore implements RequestIdStore {
  private readonly ids = new Set<string>();
  async saveAsync(key: string, value: string): Promise<CacheItem> {
    this.ids.add(key);
    return { value, createdAt: Date.now() };
  }
  async getAsync(key: string) {
    return this.ids.has(key) ? 'x' : null;
  }
  async removeAsync(key: string | null) {
    return key && this.ids.delete(key) ? key : null;
  }
  async consume(key: string) {
    return this.ids.delete(key);
  }
}

/**
 * SAML validation on one core, the same Keycloak-shaped response for all three: raw node-saml
 * (`validatePostResponseAsync`, InResponseTo off), @boxyhq/saml20 (the peer), and Bridgekeeper's
 * full validation (prechecks, node-saml, Destination / Issuer / Recipient / expiry, the one-time
 * InResponseTo). Run alternately; ratios against raw node-saml.
 */
export async function samlValidationBench(opts: { rounds: number; opsPerRound: number }) {
  const idpKeys = await generateSigningKeyPair('bench idp');
  const spKeys = await generateSigningKeyPair('bench sp');
  const urls = spUrls(PUBLIC_URL, 'keycloak');
  const der = idpKeys.certificatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const store = new MemoryStore();
  const sp = new SamlServiceProvider({
    idpId: 'keycloak',
    publicUrl: PUBLIC_URL,
    idp: { entityId: IDP, ssoRedirectUrl: `${IDP}/protocol/saml`, signingCertificates: [der], wantAuthnRequestsSigned: true },
    signingKey: spKeys.privateKeyPem,
    signingCert: spKeys.certificatePem,
    binding: 'HTTP-Redirect',
    clockSkewMs: 30_000,
    requestTtlMs: 600_000,
    requestStore: store,
  });
  const raw = new SAML({
    issuer: urls.entityId,
    callbackUrl: urls.acs,
    audience: urls.entityId,
    idpIssuer: IDP,
    idpCert: idpKeys.certificatePem,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: 30_000,
  });
  const requestId = '_bench-request';
  const xml = keycloakShapedResponse({ keys: idpKeys, idpEntityId: IDP, spEntityId: urls.entityId, acsUrl: urls.acs, inResponseTo: requestId });
  const encoded = toBase64(xml);

  // Every contender must accept the response before it is timed.
  const checks = {
    raw: (await raw.validatePostResponseAsync({ SAMLResponse: encoded })).profile?.nameID,
    boxyhq: (await saml20.validate(xml, { publicKey: idpKeys.certificatePem, audience: urls.entityId, inResponseTo: requestId })).claims,
  };
  if (checks.raw !== 'alice' || !checks.boxyhq) throw new Error('a contender refused the bench response');

  const contenders = [
    { name: '@node-saml/node-saml (raw)', run: () => raw.validatePostResponseAsync({ SAMLResponse: encoded }) },
    { name: '@boxyhq/saml20 (peer)', run: () => saml20.validate(xml, { publicKey: idpKeys.certificatePem, audience: urls.entityId, inResponseTo: requestId }) },
    {
      name: 'Bridgekeeper (all checks)',
      run: async () => {
        await store.saveAsync(requestId, '');
        await sp.validatePostResponse(encoded);
      },
    },
  ];
  const result = await alternate(contenders, { rounds: opts.rounds, opsPerRound: opts.opsPerRound, warmup: 20 });
  const base = result[0].opsPerSec;
  const rows = result.map((r) => ({ validator: r.name, 'ops/s': r.opsPerSec, 'mean ms': r.meanMs, 'p99 ms': r.p99Ms, 'vs raw node-saml': r.opsPerSec / base }));
  printTable(`SAML validation, one core, Keycloak-shaped response (${xml.length} bytes, Response + Assertion signed, RSA-2048 / SHA-256)`, rows);
  const bk = result[2].opsPerSec / base;
  const target = { bridgekeeperVsRaw: bk, target: 0.9, met: bk >= 0.9, aheadOfBoxyhq: result[2].opsPerSec > result[1].opsPerSec };
  console.log(
    `  Bridgekeeper / raw node-saml = ${bk.toFixed(2)} (target ≥ 0.90: ${target.met ? 'met' : 'MISSED'}); vs @boxyhq/saml20 = ${(result[2].opsPerSec / result[1].opsPerSec).toFixed(2)}`,
  );
  saveResult('saml-validation', {
    responseBytes: xml.length,
    results: result,
    ratios: Object.fromEntries(result.map((r) => [r.name, r.opsPerSec / base])),
    target,
  });
  return { rawOpsPerSec: base, results: result };
}
