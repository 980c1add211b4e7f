import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Admin API tokens: `bk_<id>_<secret>`. Only a SHA-256 of the secret is stored (the secret
 * has 256 bits of entropy, so a slow hash adds nothing); the id finds the row.
 */
export type AdminRole = 'admin' | 'read-only';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'read-only'];

export interface AdminPrincipal {
  tokenId: string;
  name: string;
  role: AdminRole;
}

const TOKEN = /^bk_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export function generateAdminToken(): { id: string; token: string; secretHash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `bk_${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseAdminToken(raw: string): { id: string; secret: string } | null {
  const m = TOKEN.exec(raw.trim());
  return m ? { id: m[1], secret: m[2] } : null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The bearer token of an Authorization header, or null. */
export function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1] : null;
}
