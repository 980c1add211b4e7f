/** The first page of full user representations: small enough for a Keycloak whose caches are cold. */
export const FIRST_FULL_USER_PAGE = 1000;
const SMALLEST_PAGE = 100;

/**
 * How many users the next page of full representations (users with their attributes) asks for.
 * Such a page costs Keycloak far more while its caches are cold — measured in dev mode: 3.4 ms a
 * user cold against 0.2 ms warm, and a single page of 10,000 cold took 120 s, eight times the
 * default time limit — so the read starts at FIRST_FULL_USER_PAGE and then asks for as many
 * users as the last page's pace fits into a quarter of the time limit, between 100 and the
 * configured page size. A warm Keycloak reaches the configured size by the second page.
 */
export function nextFullUserPage(last: number, tookMs: number, timeoutMs: number, max: number): number {
  const fits = Math.floor((last * timeoutMs) / 4 / Math.max(tookMs, 1));
  return Math.max(Math.min(SMALLEST_PAGE, max), Math.min(max, fits));
}
