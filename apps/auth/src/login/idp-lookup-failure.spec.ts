import { IdpUnavailableError, UnknownIdpError } from '../idps/idp-errors';
import { idpLookupFailure } from './idp-lookup-failure';
import { LoginError } from './login-error';

describe('idpLookupFailure', () => {
  const logger = () => ({ warn: jest.fn(), error: jest.fn() });

  it('an IdP that is not configured (or disabled) is unknown: 404, nothing logged', () => {
    const log = logger();
    const e = idpLookupFailure('corp', new UnknownIdpError("no identity provider 'corp' is configured"), log);
    expect(e).toMatchObject({ status: 404, code: 'unknown_idp' });
    expect(log.warn).not.toHaveBeenCalled();
    expect(log.error).not.toHaveBeenCalled();
  });

  it("the IdP's own outage is unavailable: 503, the cause logged as a warning and kept as the detail", () => {
    const log = logger();
    const e = idpLookupFailure('corp', new IdpUnavailableError('the metadata of identity provider corp could not be loaded: fetch failed'), log);
    expect(e).toMatchObject({ status: 503, code: 'idp_unavailable', message: expect.stringContaining('fetch failed') });
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('fetch failed'));
  });

  it('a database failure or a bug is unavailable too (503, never 404), logged as an error with its stack', () => {
    const log = logger();
    const e = idpLookupFailure('corp', new Error('relation "auth.idps" does not exist'), log);
    expect(e).toMatchObject({ status: 503, code: 'idp_unavailable' });
    expect(log.error).toHaveBeenCalledWith(expect.stringMatching(/does not exist[\s\S]*idp-lookup-failure\.spec/));
    expect(idpLookupFailure('corp', 'not even an Error', log)).toMatchObject({ status: 503, code: 'idp_unavailable' });
  });

  it('a LoginError already decided is kept as it is', () => {
    const decided = new LoginError(400, 'logout_refused');
    expect(idpLookupFailure('corp', decided, logger())).toBe(decided);
  });
});
