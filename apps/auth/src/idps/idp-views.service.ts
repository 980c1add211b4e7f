import { Inject, Injectable } from '@nestjs/common';
import { oidcUrls } from '@bridgekeeper/oidc';
import { certificateInfo, spUrls } from '@bridgekeeper/saml';
import { mutableSubjectAttribute } from '@bridgekeeper/saml-assertion';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity, IdpOptions } from './idp.entity';

/** The IdPs as the admin API shows them, one view per protocol; never a secret. */
@Injectable()
export class IdpViewsService {
  constructor(@Inject(AUTH_CONFIG) private readonly config: AuthConfig) {}

  /** An IdP as the admin API shows it, by its protocol. */
  view(e: IdpEntity) {
    return e.protocol === 'oidc' ? this.oidc(e) : this.saml(e);
  }

  /** A SAML IdP: options, warnings, the IdP's metadata and certificates, the URLs to give the IdP. */
  saml(e: IdpEntity) {
    const urls = spUrls(this.config.publicUrl, e.id);
    return {
      id: e.id,
      name: e.name,
      enabled: e.enabled,
      protocol: 'saml' as const,
      ...e.options,
      allowCbcEncryption: e.options.allowCbcEncryption ?? false,
      subjectAttribute: e.options.subjectAttribute ?? null,
      warnings: samlWarnings(e.options),
      metadataUrl: e.metadataUrl,
      metadataFetchedAt: e.metadataFetchedAt,
      metadataError: e.metadataError,
      idp: e.metadata && {
        entityId: e.metadata.entityId,
        ssoRedirectUrl: e.metadata.ssoRedirectUrl ?? null,
        ssoPostUrl: e.metadata.ssoPostUrl ?? null,
        sloUrl: e.metadata.sloRedirectUrl ?? e.metadata.sloPostUrl ?? null,
        certificates: e.metadata.signingCertificates.map((c) => certificateInfo(c, this.config.saml.certificateWarnDays)),
      },
      sp: { entityId: urls.entityId, acsUrl: urls.acs, sloUrl: urls.slo, metadataUrl: urls.entityId },
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    };
  }

  /** An OIDC IdP as the API shows it: settings, discovered endpoints, the URLs to register; never the secret. */
  oidc(e: IdpEntity) {
    const o = e.oidc!;
    const urls = oidcUrls(this.config.publicUrl, e.id);
    return {
      id: e.id,
      name: e.name,
      enabled: e.enabled,
      protocol: 'oidc' as const,
      emailDomains: e.options.emailDomains,
      oidc: {
        issuer: o.issuer,
        clientId: o.clientId,
        clientSecret: e.clientSecretEnc ? ('(set)' as const) : null,
        scopes: o.scopes,
        groupsClaim: o.groupsClaim,
        idTokenAlgorithm: o.idTokenAlgorithm,
        userinfo: o.userinfo,
        endpoints: o.discovery && {
          authorization: o.discovery.authorization_endpoint,
          token: o.discovery.token_endpoint,
          userinfo: o.discovery.userinfo_endpoint ?? null,
          jwks: o.discovery.jwks_uri,
          endSession: o.discovery.end_session_endpoint ?? null,
          idTokenAlgorithms: o.discovery.id_token_signing_alg_values_supported ?? null,
        },
      },
      metadataUrl: e.metadataUrl,
      metadataFetchedAt: e.metadataFetchedAt,
      metadataError: e.metadataError,
      rp: { redirectUri: urls.callback, backchannelLogoutUrl: urls.backchannelLogout, postLogoutRedirectUri: urls.postLogoutRedirect },
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    };
  }
}

export const CBC_WARNING =
  'allowCbcEncryption is on: assertions encrypted with AES-CBC are accepted. CBC has no integrity protection: whoever can post altered copies of an encrypted assertion can read it (the padding-oracle attack on XML Encryption), and assertions the IdP encrypts with AES-GCM can be downgraded to CBC. Configure the IdP to encrypt with AES-GCM and turn this off.';

/** What an admin should know about a SAML IdP's settings: each protection turned off, and why that is weak. */
function samlWarnings(o: IdpOptions): string[] {
  const mutable = o.subjectAttribute ? mutableSubjectAttribute(o.subjectAttribute) : undefined;
  return [...(o.allowCbcEncryption ? [CBC_WARNING] : []), ...(mutable ? [`subjectAttribute: ${mutable}`] : [])];
}
