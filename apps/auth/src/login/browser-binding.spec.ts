import { bindingHash, browserBindingCookie, newBinding, readBinding } from './browser-binding';

describe('browser binding of a login', () => {
  it('is 256 random bits, read back only when well-formed', () => {
    const value = newBinding();
    expect(readBinding(value)).toBe(value);
    expect(newBinding()).not.toBe(value);
    for (const bad of [undefined, '', 'short', `${value}x`, `${value.slice(0, 42)}!`, 42, ['a']]) expect(readBinding(bad)).toBeNull();
  });

  it('keeps a hash of the value, not the value', () => {
    const value = newBinding();
    expect(bindingHash(value)).toMatch(/^[0-9a-f]{64}$/);
    expect(bindingHash(value)).not.toContain(value);
    expect(bindingHash(value)).toBe(bindingHash(value));
  });

  it('is SameSite=None, Secure and __Host- prefixed with secure cookies (the ACS is a cross-site POST); Lax otherwise', () => {
    expect(browserBindingCookie(true, 600_000)).toEqual({
      name: '__Host-bk_login',
      options: { httpOnly: true, secure: true, sameSite: 'none', path: '/', maxAge: 600_000 },
    });
    expect(browserBindingCookie(false, 600_000)).toEqual({
      name: 'bk_login',
      options: { httpOnly: true, secure: false, sameSite: 'lax', path: '/', maxAge: 600_000 },
    });
  });
});
