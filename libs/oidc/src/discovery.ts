import { z } from 'zod';
import { OidcError } from './errors';

const endpoint = z.url({ protocol: /^https?$/ });

/** The parts of an OpenID Provider's discovery document Bridgekeeper uses (others are kept). */
const discoverySchema = z
  .object({
    issuer: endpoint,
    authorization_endpoint: endpoint,
    token_endpoint: endpoint,
    jwks_uri: endpoint,
    userinfo_endpoint: endpoint.optional(),
    end_session_endpoint: endpoint.optional(),
    id_token_signing_alg_values_supported: z.array(z.string()).optional(),
    code_challenge_methods_supported: z.array(z.string()).optional(),
    authorization_response_iss_parameter_supported: z.boolean().optional(),
    backchannel_logout_supported: z.boolean().optional(),
    backchannel_logout_session_supported: z.boolean().optional(),
  })
  .loose();

/** The fields Bridgekeeper reads; the stored document keeps every other field the IdP sent. */
export interface OidcDiscovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  end_session_endpoint?: string;
  id_token_signing_alg_values_supported?: string[];
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  backchannel_logout_supported?: boolean;
  backchannel_logout_session_supported?: boolean;
}

export const discoveryUrl = (issuer: string) => `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

/**
 * A discovery document, checked: the endpoints Bridgekeeper needs, the issuer it was asked for
 * (a document for another issuer is refused, RFC 8414 §3.3), and PKCE S256 where methods are listed.
 */
export function parseDiscovery(json: string, expectedIssuer: string): OidcDiscovery {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new OidcError('discovery', 'the discovery document is not JSON');
  }
  const parsed = discoverySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OidcError('discovery', `the discovery document is incomplete: ${issue.path.join('.') || '(root)'} ${issue.message}`);
  }
  const d: OidcDiscovery = parsed.data;
  if (d.issuer !== expectedIssuer) throw new OidcError('discovery', `the discovery document names issuer ${d.issuer}, not ${expectedIssuer}`);
  if (d.code_challenge_methods_supported && !d.code_challenge_methods_supported.includes('S256')) {
    throw new OidcError('discovery', 'the identity provider does not support PKCE with S256');
  }
  return d;
}
