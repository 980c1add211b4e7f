import KcAdminClient from '@keycloak/keycloak-admin-client';
import { Browser, chromium, Page } from 'playwright-core';

/** The dev Keycloak (scripts/keycloak.sh): admin API on 127.0.0.1, browsers on localhost. */
export const KEYCLOAK = process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080';
export const KEYCLOAK_ISSUER = 'http://localhost:8080/realms/bridgekeeper';

/**
 * Keycloak's Admin REST API on the bridgekeeper realm. The admin signs in to master, and that
 * session's tokens are used (and refreshed, in master): a client switched to the bridgekeeper realm
 * refreshes its token there, which fails (invalid_grant) once a test runs past the token's minute.
 */
export async function keycloakAdmin(): Promise<KcAdminClient> {
  const master = new KcAdminClient({ baseUrl: KEYCLOAK, realmName: 'master' });
  const signIn = () => master.auth({ grantType: 'password', clientId: 'admin-cli', username: 'admin', password: 'admin' });
  await signIn();
  const kc = new KcAdminClient({ baseUrl: KEYCLOAK, realmName: 'bridgekeeper' });
  kc.registerTokenProvider({
    getAccessToken: async () => {
      try {
        return await master.getAccessToken();
      } catch {
        await signIn(); // the refresh token ran out too (a test longer than the session)
        return master.accessToken;
      }
    },
  });
  return kc;
}

/** Debian's Chromium, headless, as the tests drive it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Fills Keycloak's own login form on `page` and waits until the browser has left Keycloak. */
export async function submitKeycloakLogin(page: Page, username: string, password: string): Promise<void> {
  await page.waitForSelector('#username');
  if (!page.url().startsWith('http://localhost:8080/realms/bridgekeeper/')) throw new Error(`not Keycloak's login page: ${page.url()}`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#kc-login');
  await page.waitForURL((u) => u.port !== '8080', { timeout: 60_000 });
  await page.waitForLoadState('load');
}
