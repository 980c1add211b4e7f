import { inflateRawSync } from 'node:zlib';
import { XMLSerializer } from '@xmldom/xmldom';
import { CacheProvider, SAML, SamlConfig, ValidateInResponseTo } from '@node-saml/node-saml';
import { decryptAssertion, decryptionFailed, readEncryptedAssertion } from './decryption';
import { NameIdUnreadable, readSubjectElement } from '@bridgekeeper/saml-assertion';
import { classifyNodeSamlError, SamlValidationError } from './errors';
import { explainSignatureRefusal } from './signature-diagnosis';
import { IdpMetadata, toPem } from './idp-metadata';
import { attr, checkXmlLimits, children, decodeSamlMessage, descendants, NS, parseXml } from './xml';
import {
  ALLOWED_SIGNATURE_ALGORITHMS,
  checkSignatureAlgorithms,
  checkVerifiedResponse,
  logoutNotSigned,
  precheckLogout,
  precheckResponse,
  samlInstant,
} from './response-checks';

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
  /** Keys that also decrypt during an SP key rotation (the staged one, the one just retired). */
  otherDecryptionKeys?: string[];
  binding: 'HTTP-Redirect' | 'HTTP-POST';
  nameIdFormat?: string;
  forceAuthn?: boolean;
  /** Ask the IdP not to show any page (fails unless the user already has an IdP session). */
  passive?: boolean;
  /** Accept responses no AuthnRequest asked for (off by default); every other check still applies. */
  allowIdpInitiated?: boolean;
  /**
   * Accept assertions encrypted with AES-CBC (off by default: AES-GCM only). CBC has no integrity
   * protection, which allows padding-oracle attacks and downgrades from GCM; only for an IdP that
   * cannot encrypt with GCM.
   */
  allowCbcEncryption?: boolean;
  clockSkewMs: number;
  requestTtlMs: number;
  /** The oldest IssueInstant accepted, besides the clock skew (default: requestTtlMs). */
  maxAssertionAgeMs?: number;
  /**
   * Shared store of outstanding request ids (AuthnRequests and LogoutRequests): saved when a
   * request is sent, consumed once by its answer. Not needed to verify a response (see
   * `verifyPostResponse`), which is why a validation worker builds providers without it.
   */
  requestStore?: RequestIdStore;
  /** Names this configuration; a validation worker keeps one provider per version. */
  version?: string;
}

/** node-saml's cache (it saves request ids) plus an atomic one-time consume for the answer. */
export interface RequestIdStore extends CacheProvider {
  /** true exactly once for an id saved and not expired; false afterwards or for unknown ids. */
  consume(id: string): Promise<boolean>;
}

/** The serialisable part of a provider's configuration: what a validation worker needs. */
export type VerifierConfig = Omit<ServiceProviderConfig, 'requestStore'>;

export interface ValidatedLogin {
  nameId: string;
  nameIdFormat: string;
  sessionIndex?: string;
  issuer: string;
  /** The request this response answers (Response or SubjectConfirmationData InResponseTo). */
  inResponseTo?: string;
  /** Both InResponseTo values as sent, for the one-time check (`consumeInResponseTo` or `checkInResponseTo`). */
  responseInResponseTo: string | null;
  subjectInResponseTo: string | null;
  assertionId: string;
  assertionExpiresAt?: Date;
  attributes: Record<string, string[]>;
}

/** What a verified LogoutRequest says about itself, for the one-time check. */
export interface LogoutRequestFacts {
  id: string;
  issueInstant: Date;
  /** How long its id must be remembered to refuse it again (past its acceptance window). */
  rememberUntil: Date;
}

export type AuthnRequestOut = ({ kind: 'redirect'; url: string } | { kind: 'post'; action: string; fields: Record<string, string> }) & {
  requestId: string;
  xml: string;
};

function requestIdOf(xml: string): string {
  const id = attr(parseXml(xml).documentElement, 'ID');
  if (!id) throw new Error('node-saml produced an AuthnRequest without an ID');
  return id;
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
  private readonly options: SamlConfig;
  private readonly otherDecryption: SAML[] = [];
  private verifier?: VerifierConfig;
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
      // InResponseTo is ours (consumeInResponseTo, checkInResponseTo): atomic, one-time, and bound to the browser's
      // login state; verifying a response then needs no store and can run on a worker thread.
      validateInResponseTo: ValidateInResponseTo.never,
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
    this.options = options;
    this.saml = new SAML(options);
  }

  /** The configuration without the store, for a validation worker (built once, sent with every response). */
  get verifierConfig(): VerifierConfig {
    if (!this.verifier) {
      const { requestStore: _store, ...rest } = this.config;
      this.verifier = rest;
    }
    return this.verifier;
  }

  private get store(): RequestIdStore {
    if (!this.config.requestStore) throw new Error('this service provider was built without a request store (verification only)');
    return this.config.requestStore;
  }

  /**
   * A signed AuthnRequest (RSA-SHA256) in this IdP's binding: where to send the browser, the
   * request id its answer must carry (InResponseTo) and the request XML for the login trace.
   * The id is saved in the shared request store, for `consumeInResponseTo`; `remember: false`
   * leaves the store alone, for a caller that keeps the id in a one-time record of its own, bound
   * to the browser, and checks the answer with `checkInResponseTo`.
   */
  async authnRequest(relayState: string, opts: { remember?: boolean } = {}): Promise<AuthnRequestOut> {
    let out: AuthnRequestOut;
    if (this.binding === 'HTTP-POST') {
      const message = await this.saml.getAuthorizeMessageAsync(relayState, undefined, {});
      const fields = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, String(v)]));
      const xml = decodeSamlMessage(fields.SAMLRequest ?? '', false);
      out = { kind: 'post', action: this.entryPoint, fields, requestId: requestIdOf(xml), xml };
    } else {
      const url = await this.saml.getAuthorizeUrlAsync(relayState, undefined, {});
      const xml = decodeSamlMessage(new URL(url).searchParams.get('SAMLRequest') ?? '', true);
      out = { kind: 'redirect', url, requestId: requestIdOf(xml), xml };
    }
    // node-saml saves AuthnRequest ids only when it checks InResponseTo itself; we do (consumeInResponseTo).
    if (opts.remember !== false) await this.store.saveAsync(out.requestId, new Date().toISOString());
    return out;
  }

  /** Whether the IdP has a single logout endpoint. */
  get canLogout(): boolean {
    return !!(this.config.idp.sloRedirectUrl ?? this.config.idp.sloPostUrl);
  }

  /** SP-initiated logout: the IdP URL carrying our signed LogoutRequest (HTTP-Redirect binding). */
  logoutUrl(subject: { nameId: string; nameIdFormat?: string; sessionIndex?: string }, relayState: string): Promise<string> {
    return this.saml.getLogoutUrlAsync(
      {
        issuer: this.config.idp.entityId,
        nameID: subject.nameId,
        nameIDFormat: subject.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
        sessionIndex: subject.sessionIndex,
      },
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
        if (typeof params.Signature !== 'string' || !sigAlg)
          throw new SamlValidationError('signature', logoutNotSigned(typeof params.SAMLRequest === 'string' ? 'LogoutRequest' : 'LogoutResponse'));
        if (!ALLOWED_SIGNATURE_ALGORITHMS.has(sigAlg)) throw new SamlValidationError('algorithm', `signature algorithm ${sigAlg} is refused`);
        // node-saml inflates without a limit: a deflate bomb stops here, before it.
        let inflated: string;
        try {
          inflated = inflateRawSync(Buffer.from(message, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8');
        } catch {
          throw new SamlValidationError('malformed', `the logout message does not inflate to a SAML message under ${MAX_INFLATED_BYTES} bytes`);
        }
        checkXmlLimits(inflated);
        this.precheckEncryptedIds(parseXml(inflated));
        const result = checkIssuer(await this.saml.validateRedirectAsync(params as Record<string, string>, originalQuery));
        if (typeof params.SAMLResponse === 'string') {
          const inResponseTo = attr(parseXml(inflated).documentElement, 'InResponseTo');
          if (!inResponseTo || !(await this.store.consume(inResponseTo)))
            throw new SamlValidationError('in_response_to', 'the LogoutResponse answers no logout started here');
          return result;
        }
        return { ...result, request: this.logoutRequestFacts(inflated) };
      }
      const xml = Buffer.from(message, 'base64').toString('utf8');
      const { inResponseTo } = precheckLogout(xml, this.urls.slo);
      this.precheckEncryptedIds(parseXml(xml));
      if (typeof params.SAMLRequest === 'string') {
        const result = checkIssuer(await this.saml.validatePostRequestAsync({ SAMLRequest: params.SAMLRequest }));
        return { ...result, request: this.logoutRequestFacts(xml) };
      }
      if (!inResponseTo || !(await this.store.consume(inResponseTo))) {
        throw new SamlValidationError('in_response_to', 'the LogoutResponse answers no logout started here');
      }
      return checkIssuer(await this.saml.validatePostResponseAsync({ SAMLResponse: params.SAMLResponse as string }));
    } catch (err) {
      throw classifyNodeSamlError(err);
    }
  }

  /**
   * An encrypted NameID in a logout message is opened by node-saml itself (after the signature
   * check): its algorithms are held to the same policy as an encrypted assertion's before that.
   */
  private precheckEncryptedIds(doc: Document): void {
    for (const encrypted of descendants(doc, NS.saml, 'EncryptedID')) readEncryptedAssertion(encrypted, { allowCbc: this.config.allowCbcEncryption ?? false });
  }

  /**
   * A verified LogoutRequest's id (for the caller's replay store: a LogoutRequest is honoured once)
   * and its IssueInstant, which must lie within the clock skew of now: a LogoutRequest travels
   * through the browser at once, so an older one is a replay, not a late delivery.
   */
  private logoutRequestFacts(xml: string, now = new Date()): LogoutRequestFacts {
    const root = parseXml(xml).documentElement;
    const id = attr(root, 'ID');
    if (!id) throw new SamlValidationError('malformed', 'the LogoutRequest has no ID');
    const issueInstant = samlInstant(attr(root, 'IssueInstant'));
    if (!Number.isFinite(issueInstant)) throw new SamlValidationError('malformed', 'the LogoutRequest has no valid IssueInstant');
    const skew = Math.max(this.config.clockSkewMs, MIN_CLOCK_SKEW_MS);
    const age = now.getTime() - issueInstant;
    if (age > skew)
      throw new SamlValidationError(
        'too_old',
        `the LogoutRequest was issued ${Math.round(age / 1000)} s ago; at most ${skew / 1000} s (the clock skew) is accepted`,
      );
    if (age < -skew)
      throw new SamlValidationError(
        'issued_in_future',
        `the LogoutRequest was issued ${Math.round(-age / 1000)} s in the future (clock skew allowed: ${skew / 1000} s)`,
      );
    return { id, issueInstant: new Date(issueInstant), rememberUntil: new Date(issueInstant + 2 * skew) };
  }

  /** Our answer to an IdP-initiated LogoutRequest (signed, HTTP-Redirect). */
  logoutResponseUrl(request: { ID?: string; issuer?: string }, relayState: string, success: boolean): Promise<string> {
    return this.saml.getLogoutResponseUrlAsync(request as never, relayState, {}, success);
  }

  metadata(): string {
    const signing = this.config.nextSigningCert ? [this.config.signingCert, this.config.nextSigningCert] : this.config.signingCert;
    return this.saml.generateServiceProviderMetadata(this.config.encryptionCert ?? null, signing);
  }

  /**
   * Validates a POSTed SAMLResponse in full: `verifyPostResponse`, then `consumeInResponseTo`.
   * Throws SamlValidationError with the reason.
   */
  async validatePostResponse(samlResponse: string, expectedRequestId?: string): Promise<ValidatedLogin> {
    const login = await this.verifyPostResponse(samlResponse);
    await this.consumeInResponseTo(login, expectedRequestId);
    return login;
  }

  /**
   * Everything but the request-id check, with no I/O (so it can run on a worker thread): depth,
   * size, DTD, comments and algorithm prechecks, the encryption algorithms and decryption, node-saml's
   * signature / conditions / audience checks, then Destination, Issuer, IssueInstant (maximum age),
   * Recipient and SubjectConfirmationData expiry.
   */
  async verifyPostResponse(samlResponse: string): Promise<ValidatedLogin> {
    if (typeof samlResponse !== 'string' || samlResponse.length === 0) throw new SamlValidationError('malformed', 'no SAMLResponse was posted');
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    const doc = precheckResponse(xml);
    const { saml, encrypted, assertion } = this.decryptingInstance(doc);
    let profile;
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: withoutRedundantResponseSignature(doc) ?? samlResponse }));
    } catch (err) {
      const refusal = classifyNodeSamlError(err);
      // "Invalid signature" says nothing an IdP admin can act on: which of the causes it is.
      if (refusal.code === 'signature')
        throw new SamlValidationError('signature', explainSignatureRefusal(doc, assertion, this.config.idp.signingCertificates, refusal.message));
      // node-saml opens an encrypted assertion again (the same bytes, the key that opened it
      // here): whatever it could still trip on there (a library error, not a check) is a
      // decryption failure, told apart from no other.
      if (encrypted && (refusal.code === 'malformed' || refusal.code === 'unsupported')) throw decryptionFailed();
      throw refusal;
    }
    if (!profile) throw new SamlValidationError('malformed', 'the response carried no assertion');
    const assertionXml = profile.getAssertionXml?.();
    if (!assertionXml) throw new SamlValidationError('malformed', 'the response carried no assertion');
    const facts = checkVerifiedResponse(doc, assertionXml, {
      acsUrl: this.urls.acs,
      idpEntityId: this.config.idp.entityId,
      clockSkewMs: Math.max(this.config.clockSkewMs, MIN_CLOCK_SKEW_MS),
      maxAssertionAgeMs: this.config.maxAssertionAgeMs ?? this.config.requestTtlMs,
    });
    // The verified assertion (parsed once, by the checks above) read by the reader the mapping
    // simulator uses too: an attribute sent as several elements keeps every value (node-saml's
    // profile keeps the last element's), and the NameID must read the same to both parsers — a
    // NameID of another namespace or an element inside one would otherwise key a user on what the
    // simulator (and a namespace-aware reader) does not see.
    let read;
    try {
      read = readSubjectElement(facts.assertion);
    } catch (err) {
      if (err instanceof NameIdUnreadable) throw new SamlValidationError('malformed', err.message);
      throw err;
    }
    // Compared with line ends normalised: node-saml reads the response as posted, this the assertion it re-serialised.
    const lines = (v: string) => v.replace(/\r\n?/g, '\n');
    if (read.nameId !== null && lines(read.nameId) !== lines(profile.nameID ?? '')) {
      throw new SamlValidationError(
        'malformed',
        "the assertion's NameID reads differently to a namespace-aware parser than to the signature library (a NameID in another namespace, or markup inside it): refused",
      );
    }
    // None readable (an EncryptedID node-saml could not open, a BaseID, an empty NameID): refused, plainly.
    if (!profile.nameID)
      throw new SamlValidationError(
        'malformed',
        'the assertion has no NameID this service provider can read (none, an empty one, a BaseID, or an EncryptedID it cannot open): make the IdP send a NameID',
      );
    return {
      nameId: profile.nameID,
      nameIdFormat: read.nameId !== null ? read.nameIdFormat : profile.nameIDFormat,
      sessionIndex: profile.sessionIndex,
      issuer: profile.issuer,
      inResponseTo: facts.responseInResponseTo ?? facts.subjectInResponseTo ?? undefined,
      responseInResponseTo: facts.responseInResponseTo,
      subjectInResponseTo: facts.subjectInResponseTo,
      assertionId: facts.id,
      assertionExpiresAt: facts.notOnOrAfter,
      attributes: read.attributes,
    };
  }

  /**
   * An encrypted assertion is opened here first, before node-saml (which would accept CBC, RSA 1.5
   * and 3DES, and whose errors differ by cause): its algorithms are checked before any key is
   * used (AES-GCM content and RSA-OAEP key transport; CBC only where the IdP opts in), then it is
   * decrypted with the active key or a key of a rotation in progress, every failure alike, and
   * the signature algorithms and comments it hid are checked. Returns the node-saml instance
   * holding the key that opened it.
   */
  private decryptingInstance(doc: Document): { saml: SAML; encrypted: boolean; assertion?: Element } {
    const encrypted = doc.getElementsByTagNameNS(NS.saml, 'EncryptedAssertion')[0];
    if (!encrypted) return { saml: this.saml, encrypted: false, assertion: children(doc.documentElement, NS.saml, 'Assertion')[0] };
    const parts = readEncryptedAssertion(encrypted, { allowCbc: this.config.allowCbcEncryption ?? false });
    const keys = [this.config.encryptionKey, ...(this.config.otherDecryptionKeys ?? [])].filter((k): k is string => !!k);
    if (keys.length === 0) throw new SamlValidationError('unsupported', 'the assertion is encrypted, but this service provider has no encryption key');
    const { assertion, xml, keyIndex } = decryptAssertion(parts, keys);
    if (xml.includes('<!--')) throw new SamlValidationError('malformed', 'the encrypted assertion holds XML comments, which are refused');
    checkSignatureAlgorithms(assertion);
    const opened = assertion.documentElement;
    if (keyIndex === 0) return { saml: this.saml, encrypted: true, assertion: opened };
    this.otherDecryption[keyIndex - 1] ??= new SAML({ ...this.options, decryptionPvk: keys[keyIndex] });
    return { saml: this.otherDecryption[keyIndex - 1], encrypted: true, assertion: opened };
  }

  /**
   * The response answers an outstanding request, once: the Response's and the assertion's
   * InResponseTo agree, the id is consumed atomically from the shared store (also when only one
   * of the two carries it), and it is the request this browser's login started (`expected`,
   * from the RelayState-bound login state; null when this browser started no login, undefined to
   * skip that check). No InResponseTo is accepted only for IdP-initiated login, when it is on.
   */
  async consumeInResponseTo(login: Pick<ValidatedLogin, 'responseInResponseTo' | 'subjectInResponseTo'>, expected?: string | null): Promise<void> {
    const id = this.answeredRequest(login, expected);
    if (id === undefined) return;
    if (!(await this.store.consume(id)))
      throw new SamlValidationError('in_response_to', `InResponseTo ${id} answers no outstanding request (unknown, expired or already used)`);
    if (expected === null)
      throw new SamlValidationError('in_response_to', `InResponseTo ${id} answers a login this browser did not start (no RelayState of ours)`);
    if (expected !== undefined && id !== expected) {
      throw new SamlValidationError('in_response_to', `InResponseTo ${id} answers another browser's request, not this login's (${expected})`);
    }
  }

  /**
   * The same rules as `consumeInResponseTo`, for a request id the caller kept in a one-time record
   * of its own, bound to the browser and already taken (auth's login state: deleted as it is read,
   * by the RelayState): `expected` is the id that record held, null when the browser brought none
   * (no login started here, or one already answered or expired). The record being taken once makes
   * the answer one-time, so the shared store is not needed (`authnRequest` with `remember: false`).
   */
  checkInResponseTo(login: Pick<ValidatedLogin, 'responseInResponseTo' | 'subjectInResponseTo'>, expected: string | null): void {
    const id = this.answeredRequest(login, expected);
    if (id === undefined) return;
    if (expected === null) {
      throw new SamlValidationError(
        'in_response_to',
        `InResponseTo ${id} answers no login in progress in this browser (none started here, or it was already answered or has expired)`,
      );
    }
    if (id !== expected)
      throw new SamlValidationError('in_response_to', `InResponseTo ${id} answers another browser's request, not this login's (${expected})`);
  }

  /** The request id a response answers (both InResponseTo values must agree); undefined for an IdP-initiated response that is allowed. */
  private answeredRequest(login: Pick<ValidatedLogin, 'responseInResponseTo' | 'subjectInResponseTo'>, expected?: string | null): string | undefined {
    const { responseInResponseTo: onResponse, subjectInResponseTo: onSubject } = login;
    if (onResponse && onSubject && onResponse !== onSubject) {
      throw new SamlValidationError('in_response_to', `the Response answers ${onResponse} but its assertion answers ${onSubject}`);
    }
    // The assertion's bearer SubjectConfirmationData is what the IdP signed (and SAML's Web Browser
    // SSO profile requires its InResponseTo for a solicited answer); the Response element's is not
    // covered by the signature verified here, so it may agree but never stands in for it.
    if (onSubject) return onSubject;
    if (this.config.allowIdpInitiated && !expected) return undefined;
    if (onResponse) {
      throw new SamlValidationError(
        'in_response_to',
        `only the Response element says it answers ${onResponse}; the signed assertion's SubjectConfirmationData names no request`,
      );
    }
    throw new SamlValidationError('in_response_to', 'the response has no InResponseTo: it answers no request (unsolicited)');
  }
}

/**
 * The response to hand to node-saml without the Response's own signature, when the assertion
 * carries a signature of its own: node-saml verifies a Response signature first (a full parse,
 * document-wide ID scans, c14n and RSA) and then, since assertions must be signed here, the
 * assertion's as well, which is the one that counts — a bad Response signature does not change
 * its answer. Skipping the first pass halves the signature work. Undefined when there is nothing
 * to skip (no Response signature, or an assertion that is not signed or is encrypted).
 * When it skips, the signature is removed from `doc` itself (no copy is made).
 */
function withoutRedundantResponseSignature(doc: Document): string | undefined {
  const root = doc.documentElement;
  const assertion = children(root, NS.saml, 'Assertion')[0];
  const responseSignatures = children(root, NS.ds, 'Signature');
  if (!assertion || responseSignatures.length !== 1 || children(assertion, NS.ds, 'Signature').length !== 1) return undefined;
  // node-saml refuses a malformed Response signature before any cryptography (more than two
  // transforms, a reference to anything but the Response, an ID held by several elements):
  // such a response still goes to node-saml whole, so those refusals stay.
  const signature = responseSignatures[0];
  const references = descendants(signature, NS.ds, 'Reference');
  const rootId = attr(root, 'ID');
  if (descendants(signature, NS.ds, 'Transform').length > 2 || references.length !== 1 || !rootId || attr(references[0], 'URI') !== `#${rootId}`)
    return undefined;
  if (descendants(doc, '*', '*').filter((e) => e.getAttribute('ID') === rootId).length !== 1) return undefined;
  // Removed from our parse in place: the checks that read it afterwards look at the Response's
  // attributes and Issuer, never at its signature.
  root.removeChild(signature);
  return Buffer.from(new XMLSerializer().serializeToString(doc as never), 'utf8').toString('base64');
}
