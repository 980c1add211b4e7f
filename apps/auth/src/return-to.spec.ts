import { safeReturnTo } from './return-to';

describe('safeReturnTo', () => {
  const own = 'http://localhost:3000';
  const allowed = [own, 'https://jira.example.com'];

  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/session', '/session'],
    ['/a/b?x=1#y', '/a/b?x=1#y'],
    ['http://localhost:3000/x', 'http://localhost:3000/x'],
    ['https://jira.example.com/secure/Dashboard.jspa', 'https://jira.example.com/secure/Dashboard.jspa'],
  ])('accepts %p → %p', (raw, expected) => {
    expect(safeReturnTo(raw, own, allowed)).toBe(expected);
  });

  it.each([
    ['//evil.example.com/x'],
    ['/\\evil.example.com'],
    ['https://evil.example.com/'],
    ['https://jira.example.com.evil.com/'],
    ['javascript:alert(1)'],
    ['http://user:pw@localhost:3000/'],
    ['/x\ny'],
    // Dot-segments collapse to a protocol-relative URL once resolved: `//evil.example/phish`.
    ['/.//evil.example/phish'],
    ['/..//evil.example'],
    ['/%2e//evil.example'],
    ['/a/..//evil.example'],
    ['/a/%2e%2e//evil.example'],
    [42],
    ['x'.repeat(3000)],
  ])('refuses %p', (raw) => {
    expect(safeReturnTo(raw, own, allowed)).toBeNull();
  });
});
