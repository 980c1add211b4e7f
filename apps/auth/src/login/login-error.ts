/**
 * A login (or logout) that cannot go on. The person sees a plain page chosen by `code` alone
 * (`publicRefusal`): what happened in everyday words, what to do, and the trace id; never the
 * reason, a library's error string or anything else an attacker could learn from (a tampered
 * message must look exactly like any other refused one). The reason is `detail`: it goes to the
 * login trace (for admins, `GET /api/v1/login-traces/{id}`) and the service log.
 */
export class LoginError extends Error {
  readonly traceId?: string;

  constructor(
    readonly status: number,
    readonly code: string,
    opts: { traceId?: string; detail?: string } = {},
  ) {
    super(opts.detail ?? code);
    this.name = 'LoginError';
    this.traceId = opts.traceId;
  }
}

export interface PublicRefusal {
  title: string;
  message: string;
}

const UNAVAILABLE: PublicRefusal = { title: 'Sign-in unavailable', message: 'Sign-in is unavailable right now. Try again in a minute.' };
const NOT_COMPLETED: PublicRefusal = {
  title: 'Sign-in could not be completed',
  message:
    'The answer from your identity provider could not be accepted. Start the sign-in again from the application; if it keeps failing, give the trace id below to your administrator.',
};

/**
 * Person-facing words per refusal code. Codes about the person's own account (disabled, no
 * account, no seat, no allowed group) say so, since only someone who has just authenticated at
 * the IdP as that person gets them; every protocol refusal (signature, decryption, replay,
 * InResponseTo, state, …) reads the same.
 */
const BY_CODE: Record<string, PublicRefusal> = {
  unknown_idp: { title: 'Unknown identity provider', message: 'This sign-in link names no identity provider that is set up here.' },
  return_to_refused: { title: 'Sign-in refused', message: 'The address to return to after signing in is not allowed.' },
  browser_mismatch: {
    title: 'Sign-in could not be completed',
    message: 'This sign-in was started in another browser, or it has expired. Start the sign-in again from the application, in this browser.',
  },
  user_disabled: {
    title: 'Account disabled',
    message: 'Your account is disabled here. If you think this is a mistake, give the trace id below to your administrator.',
  },
  not_in_directory: {
    title: 'No account here yet',
    message: 'You have no account here yet. Ask your administrator to create one; give them the trace id below.',
  },
  required_group_missing: {
    title: 'Access not granted',
    message: 'Your account is not in a group that may sign in here. Ask your administrator for access; give them the trace id below.',
  },
  seat_limit: {
    title: 'No licence seat free',
    message: 'Every licence seat is taken, so no new account can be added. Ask your administrator; give them the trace id below.',
  },
  account_not_owned: {
    title: 'Account cannot be used',
    message: 'This account cannot be signed in to through this identity provider. Give the trace id below to your administrator.',
  },
  name_refused: {
    title: 'Account cannot be used',
    message: 'Your username or email address cannot be used here as your identity provider sends it. Give the trace id below to your administrator.',
  },
  idp_unavailable: { title: 'Identity provider unavailable', message: 'The identity provider cannot be reached right now. Try again in a minute.' },
  events_unavailable: UNAVAILABLE,
  provisioning_timeout: {
    title: 'Sign-in unavailable',
    message: 'Your account could not be prepared in time. Your sign-in was recorded and will be processed; try again in a minute.',
  },
  provisioning_failed: UNAVAILABLE,
  sync_unavailable: UNAVAILABLE,
  directory_error: UNAVAILABLE,
  internal_error: UNAVAILABLE,
  logout_response_refused: {
    title: 'Signed out here',
    message:
      'You are signed out here. Your identity provider’s answer to the sign-out could not be accepted, so you may still be signed in there: sign out at the identity provider too, or close the browser. If this keeps happening, give the trace id below to your administrator.',
  },
  logout_refused: {
    title: 'Sign-out refused',
    message: 'The sign-out message could not be accepted. If you meant to sign out, sign out from the application again.',
  },
  break_glass_off: { title: 'Not available', message: 'Break-glass sign-in is not configured.' },
  break_glass_throttled: { title: 'Too many attempts', message: 'Too many break-glass attempts from this address; wait 15 minutes.' },
  break_glass_refused: { title: 'Sign-in refused', message: 'Wrong username or password.' },
};

export function publicRefusal(code: string): PublicRefusal {
  return Object.prototype.hasOwnProperty.call(BY_CODE, code) ? BY_CODE[code] : NOT_COMPLETED;
}
