/** Server-rendered pages the browser sees: the IdP chooser, the signed-in page, error pages. */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)} · Bridgekeeper</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.4rem}code{background:#f0f2f5;padding:.1rem .3rem;border-radius:3px}
.idp{display:block;margin:.5rem 0;padding:.8rem 1rem;border:1px solid #cbd2d9;border-radius:6px;text-decoration:none;color:inherit}
.error{border-left:4px solid #d64545;padding-left:1rem}button{padding:.5rem 1rem}</style></head>
<body>${body}</body></html>`;
}

export function errorPage(opts: { title: string; message: string; traceId?: string }): string {
  const trace = opts.traceId ? `<p>Trace id: <code id="trace-id">${escape(opts.traceId)}</code> — give it to your administrator.</p>` : '';
  return layout(
    opts.title,
    `<div class="error"><h1>${escape(opts.title)}</h1><p id="error-message">${escape(opts.message)}</p>${trace}</div><p><a href="/login">Try again</a></p>`,
  );
}

export function chooserPage(idps: { id: string; name: string }[], returnTo: string, lastIdp?: string, notice?: string): string {
  const links = idps
    .map(
      (i) =>
        `<a class="idp" data-idp="${escape(i.id)}" href="/login?idp=${encodeURIComponent(i.id)}&amp;returnTo=${encodeURIComponent(returnTo)}">Sign in with ${escape(i.name)}${i.id === lastIdp ? ' <small>(used last time)</small>' : ''}</a>`,
    )
    .join('');
  const email = `<form method="get" action="/login"><input type="hidden" name="returnTo" value="${escape(returnTo)}">
<label>Or your work email <input type="email" name="login_hint" autocomplete="email"></label> <button type="submit">Continue</button></form>`;
  return layout(
    'Sign in',
    `<h1>Sign in</h1>${notice ? `<p id="notice">${escape(notice)}</p>` : ''}${links || '<p>No sign-in is configured yet.</p>'}${idps.length > 1 ? email : ''}`,
  );
}

export function homePage(session: { username: string; name: string | null; email: string | null; groups: string[]; idp: string } | null): string {
  if (!session) return layout('Bridgekeeper', `<h1>Bridgekeeper</h1><p>You are not signed in.</p><p><a class="idp" href="/login">Sign in</a></p>`);
  const groups = session.groups.map((g) => `<li>${escape(g)}</li>`).join('') || '<li>(none)</li>';
  return layout(
    'Signed in',
    `<h1>Signed in as <span id="username">${escape(session.username)}</span></h1>
<p>${escape(session.name ?? '')} ${session.email ? `&lt;${escape(session.email)}&gt;` : ''} via ${escape(session.idp)}</p>
<h2>Groups</h2><ul id="groups">${groups}</ul>
<p><a href="/session">Session as JSON</a></p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  );
}

/** HTTP-POST binding: a form that submits itself (script allowed by nonce only), with a button without JavaScript. */
export function autoPostPage(action: string, fields: Record<string, string>, nonce: string): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join('');
  return layout(
    'Signing in',
    `<form method="post" action="${escape(action)}">${inputs}<noscript><button type="submit">Continue to sign in</button></noscript></form>
<script nonce="${escape(nonce)}">document.forms[0].submit();</script>`,
  );
}

/** Break-glass: a plain password form, for when the IdP is down. */
export function breakGlassPage(): string {
  return layout(
    'Break-glass sign-in',
    `<h1>Break-glass sign-in</h1><p>For administrators while the identity provider is unavailable. Every attempt is recorded.</p>
<form method="post" action="/break-glass"><p><label>Username <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p><button type="submit">Sign in</button></form>`,
  );
}
