import { bearer, generateAdminToken, parseAdminToken, secretMatches } from './admin-token';

describe('admin tokens', () => {
  it('round-trips: the stored hash matches the secret of the token, and only it', () => {
    const { id, token, secretHash } = generateAdminToken();
    const parsed = parseAdminToken(token);
    expect(parsed?.id).toBe(id);
    expect(secretMatches(parsed!.secret, secretHash)).toBe(true);
    const other = parseAdminToken(generateAdminToken().token)!;
    expect(secretMatches(other.secret, secretHash)).toBe(false);
    expect(secretHash).not.toContain(parsed!.secret);
  });

  it('refuses malformed tokens', () => {
    for (const bad of ['', 'bk_', 'bk_short_x', `xx_${'a'.repeat(16)}_${'b'.repeat(43)}`, `bk_${'A'.repeat(16)}_${'b'.repeat(43)}`]) {
      expect(parseAdminToken(bad)).toBeNull();
    }
  });

  it('reads only Bearer authorization headers', () => {
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('bearer abc')).toBe('abc');
    expect(bearer('Basic abc')).toBeNull();
    expect(bearer(undefined)).toBeNull();
    expect(bearer('Bearer a b')).toBeNull();
  });
});
