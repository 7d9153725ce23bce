// A local OpenID Connect provider for Rathaus' tests and demo, built on npm `oidc-provider`.
// It stands in for a state's citizen-account broker: test citizens log in at one of the three
// trust levels, reported as `acr` (STORK-QAA-Level-1/3/4). Never use it in production.
//
//   node server.mjs --port 8300 --client-id rathaus --client-secret s3cret \
//        --redirect-uri http://localhost:8000/konto/extern/oidc-test/oidc/callback/
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8300' },
    'client-id': { type: 'string', default: 'rathaus' },
    'client-secret': { type: 'string', default: 'rathaus-demo-secret' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
  },
});

const ACR = {
  low: 'STORK-QAA-Level-1',
  substantial: 'STORK-QAA-Level-3',
  high: 'STORK-QAA-Level-4',
};

const CITIZENS = {
  'oidc-basis-0001': {
    label: 'Bea Basis (Benutzername und Passwort, niedrig)', acr: ACR.low,
    given_name: 'Bea', family_name: 'Basis', birthdate: '1990-01-15',
    email: 'bea.basis@example.org',
  },
  'oidc-elster-0002': {
    label: 'Elias Elster (ELSTER-Zertifikat, substanziell)', acr: ACR.substantial,
    given_name: 'Elias', family_name: 'Elster', birthdate: '1975-06-30',
    email: 'elias.elster@example.org',
    address: { street_address: 'Neumarkt 10', postal_code: '42103', locality: 'Wuppertal', country: 'DE' },
  },
  'oidc-eid-0003': {
    label: 'Erika Mustermann (Online-Ausweis, hoch)', acr: ACR.high,
    given_name: 'Erika', family_name: 'Mustermann', birthdate: '1964-08-12',
    email: 'erika.mustermann@example.org',
    address: { street_address: 'Friedrich-Engels-Allee 12', postal_code: '42283', locality: 'Wuppertal', country: 'DE' },
  },
};

const port = Number(args.port);
const issuer = `http://${args.host}:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: randomBytes(8).toString('hex') };

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: args['redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  acrValues: Object.values(ACR),
  claims: {
    acr: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'birthdate'],
    address: ['address'],
  },
  scopes: ['openid', 'email', 'profile', 'address'],
  conformIdTokenClaims: false, // the ID token carries the profile claims (no userinfo call needed)
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const citizen = CITIZENS[sub];
    if (!citizen) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { label, acr, ...claims } = citizen;
        return { sub, email_verified: true, ...claims };
      },
    };
  },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${escape(title)}</title></head>`
    + `<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (details.prompt.name === 'consent') {
    // The portal is a first-party client: consent is implied, as with the state's broker.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  const wanted = details.params.acr_values ? String(details.params.acr_values).split(' ') : Object.values(ACR);
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const sub = form.get('citizen');
    if (form.get('cancel')) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'cancelled' });
      return;
    }
    if (!CITIZENS[sub] || !wanted.includes(CITIZENS[sub].acr)) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Unbekannte Testperson', '<p>Bitte wählen Sie eine der angebotenen Testpersonen.</p>'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: sub, acr: CITIZENS[sub].acr } }, { mergeWithLastSubmission: false });
    return;
  }
  const options = Object.entries(CITIZENS).filter(([, c]) => wanted.includes(c.acr));
  const buttons = options.map(([sub, c]) => `<p><button type="submit" name="citizen" value="${escape(sub)}">${escape(c.label)}</button></p>`).join('');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page('Test-Anmeldedienst (OpenID Connect)',
    `<p>Dies ist ein lokaler Testdienst. Wählen Sie eine Testperson:</p>`
    + `<form method="post" action="/interaction/${escape(uid)}/login">${buttons}`
    + `<p><button type="submit" name="cancel" value="1">Abbrechen</button></p></form>`));
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login))?$/.exec(new URL(req.url, issuer).pathname);
  if (!match) return callback(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`interaction failed: ${err.message}`);
  }
});
server.listen(port, args.host, () => {
  console.log(`test OIDC provider listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
