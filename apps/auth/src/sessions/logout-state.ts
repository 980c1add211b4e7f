import { timingSafeEqual } from 'node:crypto';
import { safeReturnTo } from '../return-to';

/**
 * An OIDC IdP's logout carries a one-time `state`; the browser that signed out keeps it with its
 * returnTo in this cookie (10 minutes, this site only), so the post-logout URI (GET /) sends on
 * only that browser, once — a link to `/?state=…` sends nobody anywhere.
 */
export function logoutStateCookie(secure: boolean): { name: string; options: { httpOnly: true; secure: boolean; sameSite: 'lax'; path: '/'; maxAge: number } } {
  return { name: secure ? '__Host-bk_logout' : 'bk_logout', options: { httpOnly: true, secure, sameSite: 'lax', path: '/', maxAge: 10 * 60_000 } };
}

export const logoutStateValue = (state: string, returnTo: string): string => `${state}.${Buffer.from(returnTo).toString('base64url')}`;

/** Where GET / sends the browser on: the returnTo of its cookie when `state` is that logout's (and still an allowed address), else nowhere. */
export function returnToAfterLogout(state: unknown, cookie: unknown, origin: string, allowedOrigins: readonly string[]): string | null {
  if (typeof state !== 'string' || typeof cookie !== 'string') return null;
  const dot = cookie.indexOf('.');
  if (dot < 1) return null;
  const expected = Buffer.from(cookie.slice(0, dot));
  const given = Buffer.from(state);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  const next = safeReturnTo(Buffer.from(cookie.slice(dot + 1), 'base64url').toString('utf8'), origin, allowedOrigins);
  return next && next !== '/' ? next : null;
}
