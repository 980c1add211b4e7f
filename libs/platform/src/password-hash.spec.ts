import { hashPassword, isPasswordHash, verifyPassword } from './password-hash';

describe('password hashes', () => {
  it('verifies the password it was made from, and nothing else', () => {
    const h = hashPassword('correct horse battery staple');
    expect(isPasswordHash(h)).toBe(true);
    expect(h).not.toContain('correct');
    expect(verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(verifyPassword('Correct horse battery staple', h)).toBe(false);
    expect(verifyPassword('x', 'md5$abc')).toBe(false);
  });
});
