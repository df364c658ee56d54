// A real OpenID provider for rqdash's integration tests: the certified `oidc-provider` package,
// served over plain HTTP on 127.0.0.1, with its own minimal login page (no devInteractions) and
// consent granted automatically. Driven from Rust by tests/api/support/oidc.rs.
//
//   cd tests/oidc && npm ci && node provider.mjs <config.json | inline JSON>
//
// The one argument is a JSON object, or the path of a file holding one:
//
//   {
//     "port": 0,                          // where to listen on 127.0.0.1; 0 (default): any free port
//     "issuer": "http://127.0.0.1:4000",  // default: http://127.0.0.1:<listening port>. Set it to a
//                                         // proxy's URL when the provider sits behind one: every
//                                         // URL it hands out is built from the request's Host, so
//                                         // the proxy must forward Host unchanged
//     "keys": ["key-1"],                  // key ids (kid) of the RS256 signing keys, all published
//                                         // in the JWKS; the first one signs. Default ["key-1"]
//     "key_dir": "/tmp/keys",             // optional: each key is kept there as <kid>.json, so a
//                                         // restart with the same kid reuses the key and one with a
//                                         // new kid signs with a new key (rotation). Without it,
//                                         // every start generates new keys
//     "pkce_required": true,              // default true: an authorization request without an S256
//                                         // code_challenge is refused
//     "clients": [{
//       "client_id": "rqdash", "client_secret": "s3cret",
//       "redirect_uris": ["http://127.0.0.1:9181/auth/callback"],
//       "post_logout_redirect_uris": ["http://127.0.0.1:9181/"],  // optional
//       "token_endpoint_auth_method": "client_secret_basic",       // or "client_secret_post"
//       "id_token_ttl_seconds": 3600                               // optional, default 3600
//     }],
//     "users": { "alice": { "password": "pw", "email": "alice@example.com", "groups": ["ops"] } }
//   }
//
// oidc-provider accepts one token endpoint authentication method per client: the one registered
// (client_secret_basic unless the client says otherwise). Register two clients to test both.
//
// Claims: sub and preferred_username are the user's name; scopes `profile` (preferred_username),
// `email` (email, email_verified) and `groups` (groups). They go into the ID token as well as
// userinfo (`conformIdTokenClaims: false`; by default oidc-provider would keep scope claims out of
// an ID token issued together with an access token).
//
// Pages, with ids stable for WebDriver:
// - GET /interaction/<uid>: form#login-form with inputs `login` and `password` (same ids) and
//   button#sign-in; a wrong password shows the form again with p#login-error. A consent prompt
//   never shows a page: the requested scopes and claims are granted at once.
// - the RP-initiated logout confirmation (end_session_endpoint): button#sign-out-confirm signs
//   out, button#sign-out-cancel stays signed in.
// - errors: a page with h1#error and p#error-description.
//
// Everything (sessions, codes, grants) is kept in memory: a restart forgets it.
// Prints `READY <issuer> <listening URL>` on stdout once it listens; logs go to stderr.
// Exits with 0 on SIGTERM or SIGINT.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import Provider from 'oidc-provider';

const arg = process.argv[2];
if (!arg) {
  console.error('usage: node provider.mjs <config.json | JSON>');
  process.exit(2);
}
const config = JSON.parse(arg.trimStart().startsWith('{') ? arg : fs.readFileSync(arg, 'utf8'));
const users = config.users ?? {};
const clients = config.clients ?? [];
const kids = config.keys?.length ? config.keys : ['key-1'];

// Escapes text for HTML.
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A private RS256 JWK with id `kid`: read from `key_dir` when there, else generated (and saved).
function signingKey(kid) {
  const file = config.key_dir && path.join(config.key_dir, `${encodeURIComponent(kid)}.json`);
  if (file && fs.existsSync(file)) {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  if (file) {
    fs.mkdirSync(config.key_dir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  return jwk;
}

// A whole HTML page.
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
${body}
</body>
</html>`;
}

// The login form for interaction `uid`, optionally with an error and the name typed before.
function loginPage(uid, clientId, error = '', login = '') {
  return page('Sign in', `<h1>Sign in to ${esc(clientId)}</h1>
${error ? `<p id="login-error">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${esc(uid)}" autocomplete="off">
  <label>User <input id="login" name="login" value="${esc(login)}" autofocus></label>
  <label>Password <input id="password" name="password" type="password"></label>
  <button id="sign-in" type="submit">Sign in</button>
</form>`);
}

// A grant for `accountId` holding every scope and claim the request asked for (automatic consent).
async function grantAll(provider, details, accountId) {
  const { params } = details;
  // At a consent prompt the session may already hold a grant for this client: extend it.
  const grant = (details.grantId && await provider.Grant.find(details.grantId))
    || new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope ?? 'openid'));
  if (params.claims) {
    const asked = JSON.parse(params.claims);
    grant.addOIDCClaims([...Object.keys(asked.id_token ?? {}), ...Object.keys(asked.userinfo ?? {})]);
  }
  return grant.save();
}

// Reads a request's whole body as text.
async function body(req) {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s;
}

// GET and POST /interaction/<uid>: the login form, and automatic consent.
async function interaction(provider, req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    throw Object.assign(new Error('interaction cookie for another interaction'), { statusCode: 400 });
  }
  const { prompt, params } = details;
  if (prompt.name === 'consent') {
    const grantId = await grantAll(provider, details, details.session.accountId);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (prompt.name !== 'login') {
    throw Object.assign(new Error(`unsupported prompt ${prompt.name}`), { statusCode: 400 });
  }
  if (req.method === 'POST') {
    const form = new URLSearchParams(await body(req));
    const login = form.get('login') ?? '';
    const user = Object.hasOwn(users, login) ? users[login] : undefined;
    if (user && user.password === form.get('password')) {
      // Login and consent in one result: no consent prompt follows.
      const grantId = await grantAll(provider, details, login);
      return provider.interactionFinished(req, res, {
        login: { accountId: login },
        consent: { grantId },
      }, { mergeWithLastSubmission: false });
    }
    return send(res, 200, loginPage(uid, params.client_id, 'Wrong user name or password.', login));
  }
  return send(res, 200, loginPage(uid, params.client_id));
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const server = http.createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const listening = `http://127.0.0.1:${server.address().port}`;
  const issuer = config.issuer ?? listening;
  const ttlOf = new Map(clients.map((c) => [c.client_id, c.id_token_ttl_seconds ?? 3600]));

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
      token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: kids.map(signingKey) },
    // Signs the provider's cookies; new on every start, as sessions are.
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Scope claims in the ID token too, not only at userinfo (see the top of the file).
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      if (!Object.hasOwn(users, sub)) return undefined;
      const u = users[sub];
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          preferred_username: sub,
          email: u.email ?? `${sub}@example.test`,
          email_verified: true,
          groups: u.groups ?? [],
        }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page('Sign out', `<h1>Sign out of ${esc(ctx.host)}?</h1>
${form}
<button id="sign-out-confirm" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button id="sign-out-cancel" type="submit" form="op.logoutForm">Stay signed in</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1 id="signed-out">Signed out</h1>');
        },
      },
    },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    pkce: { required: () => config.pkce_required ?? true },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 24 * 3600,
      IdToken: (ctx, token, client) => ttlOf.get(client.clientId) ?? 3600,
      Interaction: 600,
      Session: 24 * 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1 id="error">${esc(out.error)}</h1>
<p id="error-description">${esc(out.error_description ?? '')}</p>`);
    },
  });
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error']) {
    provider.on(event, (ctx, err) => console.error(`${event}: ${err?.message} ${err?.error_detail ?? ''}`));
  }

  const oidc = provider.callback();
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([^/?]+)(?:\?|$)/.exec(req.url);
    if (!m) return oidc(req, res);
    interaction(provider, req, res, m[1]).catch((err) => {
      console.error(`interaction: ${err.stack ?? err}`);
      if (!res.headersSent) {
        send(res, err.statusCode ?? 500, page('Error', `<h1 id="error">${esc(err.message)}</h1>`));
      }
    });
  });
  console.log(`READY ${issuer} ${listening}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.closeAllConnections();
    server.close();
    process.exit(0);
  });
}
