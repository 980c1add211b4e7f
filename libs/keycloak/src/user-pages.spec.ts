import { FIRST_FULL_USER_PAGE, nextFullUserPage } from './user-pages';

describe('nextFullUserPage', () => {
  it('grows to the configured size when Keycloak answers quickly (warm caches)', () => {
    // 1,000 users in 200 ms, 15 s limit: 18,750 would fit a quarter of it; capped at 10,000.
    expect(nextFullUserPage(FIRST_FULL_USER_PAGE, 200, 15_000, 10_000)).toBe(10_000);
  });

  it('stays near the pace that fits a quarter of the time limit when Keycloak is slow (cold caches)', () => {
    // 1,000 users in 3.4 s: 1,102 fit into 3.75 s.
    expect(nextFullUserPage(1000, 3400, 15_000, 10_000)).toBe(1102);
    // Slower still: the page shrinks.
    expect(nextFullUserPage(1000, 12_000, 15_000, 10_000)).toBe(312);
  });

  it('never asks for fewer than 100 users, nor more than the configured size', () => {
    expect(nextFullUserPage(100, 60_000, 15_000, 10_000)).toBe(100);
    expect(nextFullUserPage(1000, 0, 15_000, 10_000)).toBe(10_000);
    expect(nextFullUserPage(50, 10, 15_000, 50)).toBe(50);
  });
});
