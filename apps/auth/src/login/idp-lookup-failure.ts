import type { LoggerService } from '@nestjs/common';
import { IdpUnavailableError, UnknownIdpError } from '../idps/idp-errors';
import { LoginError } from './login-error';

/**
 * Seconds an IdP (or whoever fetches our metadata) is asked to wait before it sends again what
 * found auth unable to read the IdP: long enough for a database failover or a restart of the IdP,
 * short enough that a back-channel logout still ends the sessions it names within the minute.
 */
export const RETRY_AFTER_S = 30;

/**
 * The answer when the IdP a logout message (or a metadata request) names could not be read. Only
 * an IdP that is not configured, disabled, or of the other protocol is `unknown_idp` (404): told
 * so, an IdP stops sending. Anything else — its metadata, discovery document or keys out of reach,
 * auth's database failing, a bug — is `idp_unavailable` (503), so the IdP sends the logout again;
 * the caller learns nothing more, and the cause goes to the log (with the stack when it is not the
 * IdP's own outage, which says enough by itself).
 */
export function idpLookupFailure(idpId: string, err: unknown, logger: Pick<LoggerService, 'warn' | 'error'>): LoginError {
  if (err instanceof LoginError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  if (err instanceof UnknownIdpError) return new LoginError(404, 'unknown_idp', { detail: reason });
  if (err instanceof IdpUnavailableError) logger.warn(`identity provider ${idpId} is unavailable: ${reason}`);
  else logger.error(`identity provider ${idpId} could not be read: ${err instanceof Error ? err.stack : reason}`);
  return new LoginError(503, 'idp_unavailable', { detail: reason });
}
