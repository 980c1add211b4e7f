import { inflateRawSync } from 'node:zlib';
import { CacheProvider, SAML, SamlConfig, ValidateInResponseTo } from '@node-saml/node-saml';
import { classifyNodeSamlError, SamlValidationError } from './errors';
import { IdpMetadata, toPem } from './idp-metadata';
import { ALLOWED_SIGNATURE_ALGORITHMS, assertionId, checkVerifiedResponse, precheckLogout, precheckResponse } from './response-checks';

export interface ServiceProviderConfig {
  /** The IdP id used in URLs. */
  idpId: string;
  publicUrl: string;
  idp: IdpMetadata;
  /** PEM private key and certificate that sign AuthnRequests (RSA-SHA256). */
  signingKey: string;
  signingCert: string;
  /** A staged next signing certificate, published in the metadata before it signs (key rotation). */
  nextSigningCert?: string;
  /** PEM private key and certificate for encrypted assertions (published in the SP metadata). */
  encryptionKey?: string;
  encryptionCert?: string;
  binding: 'HTTP-Redirect' | 'HTTP-POST';
  nameIdFormat?: string;
  forceAuthn?: boolean;
  /** Ask the IdP not to show any page (fails unless the user already has an IdP session). */
  passive?: boolean;
  /** Accept responses no AuthnRequest asked for (off by default); every other check still applies. */
  allowIdpInitiated?: boolean;
  clockSkewMs: number;
  requestTtlMs: number;
  /** Shared store of outstanding AuthnRequest ids (InResponseTo, one-time use). */
  requestStore: CacheProvider;
}

export interface ValidatedLogin {
  nameId: string;
  nameIdFormat: string;
  sessionIndex?: string;
  issuer: string;
  inResponseTo?: string;
  assertionId: string;
  assertionExpiresAt?: Date;
  attributes: Record<string, string[]>;
}

export const spUrls = (publicUrl: string, idpId: string) => {
  const base = `${publicUrl.replace(/\/$/, '')}/saml/${encodeURIComponent(idpId)}`;
  return { entityId: `${base}/metadata`, acs: `${base}/acs`, slo: `${base}/slo` };
};

/** The largest inflated HTTP-Redirect message accepted (SAML messages are a few KB). */
export const MAX_INFLATED_BYTES = 256 * 1024;

/** Minimum clock skew: hosts are never perfectly in sync, and 0 turns drift into outages. */
export const MIN_CLOCK_SKEW_MS = 5_000;

/**
 * One SAML service provider for one IdP, over node-saml with hardened defaults:
 * signed assertions and responses required, SHA-256 signing, InResponseTo always checked
 * against a shared store, and the checks node-saml leaves to the application.
 */
export class SamlServiceProvider {
  private readonly saml: SAML;
  private readonly logoutResponses: SAML;
  private readonly entryPoint: string;
  readonly urls: ReturnType<typeof spUrls>;
  readonly binding: 'HTTP-Redirect' | 'HTTP-POST';

  constructor(private readonly config: ServiceProviderConfig) {
    this.urls = spUrls(config.publicUrl, config.idpId);
    this.binding = config.binding;
    const entryPoint =
      config.binding === 'HTTP-POST' ? (config.idp.ssoPostUrl ?? config.idp.ssoRedirectUrl) : (config.idp.ssoRedirectUrl ?? config.idp.ssoPostUrl);
    if (!entryPoint) throw new SamlValidationError('malformed', 'the IdP metadata names no SingleSignOnService');
    this.entryPoint = entryPoint;
    const options: SamlConfig = {
      issuer: this.urls.entityId,
      callbackUrl: this.urls.acs,
      entryPoint,
      audience: this.urls.entityId,
      idpIssuer: config.idp.entityId,
      idpCert: config.idp.signingCertificates.map((c) => toPem(c)),
      privateKey: config.signingKey,
      publicCert: config.signingCert,
      decryptionPvk: config.encryptionKey,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: Math.max(config.clockSkewMs, MIN_CLOCK_SKEW_MS),
      // IdP-initiated responses carry no InResponseTo; one that does is still checked (once).
      validateInResponseTo: config.allowIdpInitiated ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: config.requestTtlMs,
      cacheProvider: config.requestStore,
      identifierFormat: config.nameIdFormat ?? null,
      disableRequestedAuthnContext: true,
      forceAuthn: config.forceAuthn ?? false,
      passive: config.passive ?? false,
      authnRequestBinding: config.binding,
      // The POST binding carries the request base64-encoded only; DEFLATE is for the Redirect binding.
      skipRequestCompression: config.binding === 'HTTP-POST',
      generateUniqueId: () => `_${crypto.randomUUID()}`,
      logoutUrl: config.idp.sloRedirectUrl ?? config.idp.sloPostUrl ?? '',
      logoutCallbackUrl: this.urls.slo,
    };
    this.saml = new SAML(options);
    // node-saml reads InResponseTo of POSTed LogoutResponses from a <Response> element they do not
    // have: that check is ours (one-time, against the same request store), this instance skips it.
    this.logoutResponses = new SAML({ ...options, validateInResponseTo: ValidateInResponseTo.never });
  }

  /** URL to send the browser to (HTTP-Redirect binding), signed with RSA-SHA256. */
  authorizeUrl(relayState: string): Promise<string> {
    return this.saml.getAuthorizeUrlAsync(relayState, undefined, {});
  }

  /** The fields of a signed AuthnRequest for the HTTP-POST binding, and where to post them. */
  async authorizePost(relayState: string): Promise<{ action: string; fields: Record<string, string> }> {
    const message = await this.saml.getAuthorizeMessageAsync(relayState, undefined, {});
    const fields = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, String(v)]));
    return { action: this.entryPoint, fields };
  }

  /** Whether the IdP has a single logout endpoint. */
  get canLogout(): boolean {
    return !!(this.config.idp.sloRedirectUrl ?? this.config.idp.sloPostUrl);
  }

  /** SP-initiated logout: the IdP URL carrying our signed LogoutRequest (HTTP-Redirect binding). */
  logoutUrl(subject: { nameId: string; nameIdFormat?: string; sessionIndex?: string }, relayState: string): Promise<string> {
    return this.saml.getLogoutUrlAsync(
      { issuer: this.config.idp.entityId, nameID: subject.nameId, nameIDFormat: subject.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', sessionIndex: subject.sessionIndex },
      relayState,
      {},
    );
  }

  /**
   * A logout message the IdP sent (a LogoutRequest it initiated, or the LogoutResponse to ours).
   * Unsigned messages are refused: node-saml accepts an unsigned Redirect-binding message.
   */
  async validateLogout(binding: 'redirect' | 'post', params: Record<string, unknown>, originalQuery: string) {
    const message = typeof params.SAMLRequest === 'string' ? params.SAMLRequest : typeof params.SAMLResponse === 'string' ? params.SAMLResponse : '';
    if (!message) throw new SamlValidationError('malformed', 'no SAMLRequest or SAMLResponse');
    if (message.length > 200_000) throw new SamlValidationError('malformed', 'the logout message is too large');
    try {
      const checkIssuer = <T extends { profile: { issuer?: string } | null }>(r: T): T => {
        if (r.profile && r.profile.issuer !== this.config.idp.entityId) {
          throw new SamlValidationError('issuer', `the logout message was issued by ${r.profile.issuer ?? '(no Issuer)'}, not by ${this.config.idp.entityId}`);
        }
        return r;
      };
      if (binding === 'redirect') {
        const sigAlg = typeof params.SigAlg === 'string' ? params.SigAlg : '';
        if (typeof params.Signature !== 'string' || !sigAlg) throw new SamlValidationError('signature', 'the logout message is not signed');
        if (!ALLOWED_SIGNATURE_ALGORITHMS.has(sigAlg)) throw new SamlValidationError('algorithm', `signature algorithm ${sigAlg} is refused`);
        // node-saml inflates without a limit: a deflate bomb stops here, before it.
        try {
          inflateRawSync(Buffer.from(message, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
        } catch {
          throw new SamlValidationError('malformed', `the logout message does not inflate to a SAML message under ${MAX_INFLATED_BYTES} bytes`);
        }
        return checkIssuer(await this.saml.validateRedirectAsync(params as Record<string, string>, originalQuery));
      }
      const xml = Buffer.from(message, 'base64').toString('utf8');
      const { inResponseTo } = precheckLogout(xml, this.urls.slo);
      if (typeof params.SAMLRequest === 'string') return checkIssuer(await this.saml.validatePostRequestAsync({ SAMLRequest: params.SAMLRequest }));
      if (!inResponseTo || !(await this.config.requestStore.getAsync(inResponseTo))) {
        throw new SamlValidationError('in_response_to', 'the LogoutResponse answers no logout started here');
      }
      await this.config.requestStore.removeAsync(inResponseTo);
      return checkIssuer(await this.logoutResponses.validatePostResponseAsync({ SAMLResponse: params.SAMLResponse as string }));
    } catch (err) {
      throw classifyNodeSamlError(err);
    }
  }

  /** Our answer to an IdP-initiated LogoutRequest (signed, HTTP-Redirect). */
  logoutResponseUrl(request: { ID?: string; issuer?: string }, relayState: string, success: boolean): Promise<string> {
    return this.saml.getLogoutResponseUrlAsync(request as never, relayState, {}, success);
  }

  metadata(): string {
    const signing = this.config.nextSigningCert ? [this.config.signingCert, this.config.nextSigningCert] : this.config.signingCert;
    return this.saml.generateServiceProviderMetadata(this.config.encryptionCert ?? null, signing);
  }

  /** Validates a POSTed SAMLResponse; throws SamlValidationError with the reason. */
  async validatePostResponse(samlResponse: string): Promise<ValidatedLogin> {
    if (typeof samlResponse !== 'string' || samlResponse.length === 0) throw new SamlValidationError('malformed', 'no SAMLResponse was posted');
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    const doc = precheckResponse(xml);
    let profile;
    try {
      ({ profile } = await this.saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (err) {
      throw classifyNodeSamlError(err);
    }
    if (!profile) throw new SamlValidationError('malformed', 'the response carried no assertion');
    const assertionXml = profile.getAssertionXml?.();
    if (!assertionXml) throw new SamlValidationError('malformed', 'the response carried no assertion');
    checkVerifiedResponse(doc, assertionXml, { acsUrl: this.urls.acs, idpEntityId: this.config.idp.entityId, clockSkewMs: Math.max(this.config.clockSkewMs, MIN_CLOCK_SKEW_MS) });
    const { id, notOnOrAfter } = assertionId(assertionXml);
    return {
      nameId: profile.nameID,
      nameIdFormat: profile.nameIDFormat,
      sessionIndex: profile.sessionIndex,
      issuer: profile.issuer,
      inResponseTo: typeof profile.inResponseTo === 'string' ? profile.inResponseTo : undefined,
      assertionId: id,
      assertionExpiresAt: notOnOrAfter,
      attributes: normaliseAttributes(profile.attributes),
    };
  }
}

/** Attribute values as lists of strings, own keys only (no prototype tricks). */
export function normaliseAttributes(raw: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const key of Object.keys(raw)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const value = (raw as Record<string, unknown>)[key];
    const list = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    Object.defineProperty(out, key, { value: list, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
