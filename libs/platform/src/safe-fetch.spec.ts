import { guardedFetch, isPrivateAddress, safeFetchText } from './safe-fetch';

describe('safeFetchText', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
  ])('treats %s as private', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:db8::1', '100.128.0.1'])('treats %s as public', (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it('refuses private addresses and other schemes before any request', async () => {
    await expect(safeFetchText('http://127.0.0.1:9/metadata')).rejects.toThrow(/private or loopback address 127.0.0.1/);
    await expect(safeFetchText('http://169.254.169.254/latest/meta-data')).rejects.toThrow(/refused/);
    await expect(safeFetchText('file:///etc/passwd')).rejects.toThrow(/file: URLs are refused/);
  });

  it('guards protocol calls the same way (token, userinfo, JWKS endpoints)', async () => {
    const guarded = guardedFetch();
    await expect(guarded('http://127.0.0.1:9/token', { method: 'POST' })).rejects.toThrow(/private or loopback address 127.0.0.1/);
    await expect(guarded('ftp://idp.example.com/jwks')).rejects.toThrow(/ftp: URLs are refused/);
  });
});
