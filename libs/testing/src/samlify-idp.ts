import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as samlify from 'samlify';
import * as xmllint from '@authenio/samlify-node-xmllint';
import type { PostBindingContext, RequestInfo } from 'samlify/types/src/types';
import type { TestIdpKeys } from './saml-idp';
import type { TestBrowser } from './test-browser';

samlify.setSchemaValidator(xmllint);

export const NAMEID_FORMAT = {
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
} as const;

/** Who signs in at the next SSO request, and how the IdP answers. */
export interface SamlifyLogin {
  nameId: string;
  nameIdFormat?: string;
  /**
   * Attributes, in order, one `<Attribute>` element per entry (a name may repeat, as samlify's
   * template and several enterprise IdPs send multi-valued attributes); a list is one element
   * with several values.
   */
  attributes?: [name: string, value: string | string[]][];
  /** Sign the assertion (default true; Keycloak's "Sign assertions"). */
  signAssertion?: boolean;
  /** Sign the Response as well (default false; true when the assertion is not signed). */
  signResponse?: boolean;
  /** Another key signs (the certificate in KeyInfo is that key's). */
  signWith?: TestIdpKeys;
}

export interface SamlifyIdp {
  entityId: string;
  url: string;
  /** The IdP's metadata (entity id, SSO and SLO Redirect endpoints, signing certificate). */
  metadata: string;
  keys: TestIdpKeys;
  /** The answer to the next SSO request (kept until changed). */
  login: SamlifyLogin;
  /** Sign the LogoutResponse (POST binding) to the SP's LogoutRequest (default true). */
  signLogoutResponse: boolean;
  /** The last SAML messages it answered, as XML (for assertions in tests). */
  last: { authnRequest?: string; response?: string; logoutRequest?: string };
  stop(): Promise<void>;
}

/**
 * A SAML 2.0 IdP built with samlify (an independent implementation, not Keycloak): SSO and SLO
 * endpoints in the HTTP-Redirect binding, answering the SP's AuthnRequest with a POST-binding
 * Response (an HTML form to the ACS, as a browser gets it) for whoever `login` names, and its
 * LogoutRequest with a POST-binding LogoutResponse, signed or not. `spMetadataUrl` is the SP's metadata, read at each request.
 */
export async function startSamlifyIdp(opts: { keys: TestIdpKeys; spMetadataUrl: string; entityId?: string; login?: SamlifyLogin }): Promise<SamlifyIdp> {
  let base = '';
  const state: SamlifyIdp = {
    entityId: opts.entityId ?? '',
    url: '',
    metadata: '',
    keys: opts.keys,
    login: opts.login ?? { nameId: 'alice' },
    signLogoutResponse: true,
    last: {},
    stop: async () => undefined,
  };

  const idpFor = (keys: TestIdpKeys) =>
    samlify.IdentityProvider({
      entityID: state.entityId,
      privateKey: keys.privateKeyPem,
      signingCert: keys.certificatePem,
      requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      wantAuthnRequestsSigned: false,
      nameIDFormat: [NAMEID_FORMAT.persistent],
      singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
      singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/slo` }],
    });

  const spFor = async (o: { assertionSigned: boolean; messageSigned: boolean; logoutResponseSigned: boolean }) => {
    let metadata = await (await fetch(opts.spMetadataUrl)).text();
    if (!o.assertionSigned) metadata = metadata.replace(/WantAssertionsSigned="true"/, 'WantAssertionsSigned="false"');
    return samlify.ServiceProvider({ metadata, wantMessageSigned: o.messageSigned, wantLogoutResponseSigned: o.logoutResponseSigned });
  };

  const sso = async (url: URL, rawQuery: string, res: ServerResponse) => {
    const login = state.login;
    const signAssertion = login.signAssertion !== false;
    const sp = await spFor({ assertionSigned: signAssertion, messageSigned: login.signResponse ?? !signAssertion, logoutResponseSigned: true });
    const idp = idpFor(login.signWith ?? state.keys);
    const octetString = rawQuery
      .split('&')
      .filter((p) => !p.startsWith('Signature='))
      .join('&');
    const request = await idp.parseLoginRequest(sp, 'redirect', { query: Object.fromEntries(url.searchParams), octetString });
    const requestId = String(request.extract.request?.id ?? '');
    state.last.authnRequest = request.samlContent;
    const attributes = login.attributes ?? [];
    const attributeXml = attributes
      .map(
        ([name, value]) =>
          `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${(Array.isArray(value) ? value : [value])
            .map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`)
            .join('')}</saml:Attribute>`,
      )
      .join('');
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60_000).toISOString();
    const acs = sp.entityMeta.getAssertionConsumerService('post') as string;
    const answer = (await idp.createLoginResponse(
      sp,
      { ...request },
      'post',
      {},
      {
        relayState: url.searchParams.get('RelayState') ?? '',
        customTagReplacement: (template: string) => {
          const id = `_${randomUUID()}`;
          const values: Record<string, string> = {
            ID: id,
            AssertionID: `_${randomUUID()}`,
            Destination: acs,
            Audience: sp.entityMeta.getEntityID(),
            SubjectRecipient: acs,
            Issuer: state.entityId,
            IssueInstant: now.toISOString(),
            StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
            ConditionsNotBefore: new Date(now.getTime() - 1000).toISOString(),
            ConditionsNotOnOrAfter: later,
            SubjectConfirmationDataNotOnOrAfter: later,
            NameIDFormat: login.nameIdFormat ?? NAMEID_FORMAT.persistent,
            NameID: login.nameId,
            InResponseTo: requestId,
            AuthnStatement: `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${randomUUID()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
            AttributeStatement: attributes.length ? `<saml:AttributeStatement>${attributeXml}</saml:AttributeStatement>` : '',
          };
          // AuthnStatement and AttributeStatement are XML; everything else is text.
          const context = template.replace(/\{(\w+)\}/g, (whole, tag: string) =>
            !(tag in values) ? whole : tag === 'AuthnStatement' || tag === 'AttributeStatement' ? values[tag] : esc(values[tag]),
          );
          return { id, context };
        },
      },
    )) as PostBindingContext;
    state.last.response = Buffer.from(answer.context, 'base64').toString('utf8');
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(postForm(answer.entityEndpoint, { SAMLResponse: answer.context, RelayState: answer.relayState ?? '' }));
  };

  const slo = async (url: URL, rawQuery: string, res: ServerResponse) => {
    const sp = await spFor({ assertionSigned: true, messageSigned: false, logoutResponseSigned: state.signLogoutResponse });
    const idp = idpFor(state.keys);
    const octetString = rawQuery
      .split('&')
      .filter((p) => !p.startsWith('Signature='))
      .join('&');
    const request = await idp.parseLogoutRequest(sp, 'redirect', { query: Object.fromEntries(url.searchParams), octetString });
    state.last.logoutRequest = request.samlContent;
    // The SP's metadata offers its SingleLogoutService in the POST binding (node-saml's), so the answer is a form.
    const answer = idp.createLogoutResponse(sp, { ...request } as RequestInfo, 'post', {
      relayState: url.searchParams.get('RelayState') ?? '',
    }) as PostBindingContext;
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(postForm(answer.entityEndpoint, { SAMLResponse: answer.context, RelayState: answer.relayState ?? '' }));
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const rawQuery = (req.url ?? '').split('?')[1] ?? '';
    const route =
      url.pathname === '/metadata'
        ? async () => void res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(state.metadata)
        : url.pathname === '/sso'
          ? () => sso(url, rawQuery, res)
          : url.pathname === '/slo'
            ? () => slo(url, rawQuery, res)
            : null;
    if (!route) return void res.writeHead(404).end();
    route().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`samlify IdP: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.url = base;
  state.entityId ||= `${base}/metadata`;
  state.metadata = idpFor(state.keys).getMetadata();
  state.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

const postForm = (action: string, fields: Record<string, string>) =>
  `<!doctype html><form method="post" action="${esc(action)}">${Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join('')}<button>Continue</button></form>`;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The fields of the auto-post form an IdP answered with (SAMLResponse, RelayState) and where it posts. */
export function readPostForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in the page: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
    fields[m[1]] = m[2]
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return { action: action.replace(/&amp;/g, '&'), fields };
}

/**
 * A whole SP-initiated login in `browser`: GET `<authBase>/login?idp=`, the IdP's SSO (via the
 * redirect auth answers), then the IdP's form posted to the ACS. The ACS's answer (not followed).
 */
export async function samlifyLogin(
  browser: TestBrowser,
  authBase: string,
  idpId: string,
  returnTo = '/session',
): Promise<{ acs: Response; samlResponse: string }> {
  const start = await browser.fetch(`${authBase}/login?idp=${encodeURIComponent(idpId)}&returnTo=${encodeURIComponent(returnTo)}`);
  const location = start.headers.get('location');
  if (start.status !== 302 || !location) throw new Error(`/login answered ${start.status}: ${await start.text()}`);
  const page = await browser.fetch(location);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the samlify IdP answered ${page.status}: ${html}`);
  const form = readPostForm(html);
  // The IdP names the ACS by the SP's public URL; the test posts to the address it reaches.
  const action = new URL(new URL(form.action).pathname, authBase);
  const acs = await browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form.fields).toString(),
  });
  return { acs, samlResponse: form.fields.SAMLResponse };
}
