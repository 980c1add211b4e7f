import { createHash, randomBytes } from 'node:crypto';
import type { CookieOptions } from 'express';

/**
 * Binds every login to the browser that started it (login CSRF and session swap: an attacker who
 * starts a login and signs in as themselves must not be able to finish it in a victim's browser,
 * with their SAML response and RelayState or their OIDC callback URL).
 *
 * `/login` gives the browser a random value in an HttpOnly cookie (or keeps the one it has, so
 * logins in several tabs work) and stores only its SHA-256 in the login state; the ACS and the
 * OIDC callback take the state only together with the same value. Another browser's answer
 * finds nothing to take, so it is refused and spoils nothing for the browser that started it.
 *
 * The ACS receives a cross-site POST from the IdP, which carries a cookie only when it is
 * `SameSite=None` — which browsers accept only with `Secure`. So with secure cookies (an https
 * public URL) the cookie is `SameSite=None; Secure` under the `__Host-` prefix (no subdomain can
 * set or shadow it); without (plain-http development) it is `SameSite=Lax`, and an ACS POST that
 * arrives without it is posted once more from our own page (same-site), which brings it along.
 */
export interface BrowserBindingCookie {
  name: string;
  options: CookieOptions;
}

const VALUE = /^[A-Za-z0-9_-]{43}$/;

export function browserBindingCookie(secure: boolean, lifetimeMs: number): BrowserBindingCookie {
  return {
    name: secure ? '__Host-bk_login' : 'bk_login',
    options: { httpOnly: true, secure, sameSite: secure ? 'none' : 'lax', path: '/', maxAge: lifetimeMs },
  };
}

/** The browser's binding value from its cookie, when well-formed; null otherwise. */
export function readBinding(cookie: unknown): string | null {
  return typeof cookie === 'string' && VALUE.test(cookie) ? cookie : null;
}

/** A new binding value: 256 random bits. */
export function newBinding(): string {
  return randomBytes(32).toString('base64url');
}

/** What the login state keeps: the value's SHA-256 (the value itself never leaves the browser's cookie). */
export function bindingHash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
