/** The codec server's browser sessions: signed, timestamped, revocable cookies from /login. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { EncryptionCodec, type JsonPayload, payloadToJson } from '../src/codec/index.js';
import { type RunningCodecServer, startCodecServer } from '../src/codec/server.js';
import { SECRET, TOKEN, UI_ORIGIN, config, jsonPayload, newKey } from './helpers/codec.js';

describe('codec server sessions (signed, timestamped, revocable)', function () {
  this.timeout(30_000);
  let server: RunningCodecServer;
  let clock = Date.parse('2026-11-21T08:00:00Z');
  const codec = new EncryptionCodec(config({ PAYLOAD_ENCRYPTION_KEY: newKey() }));
  let encrypted: JsonPayload[];

  before(async () => {
    server = await startCodecServer({
      codec,
      token: TOKEN,
      corsOrigin: UI_ORIGIN,
      port: 0,
      sessionSeconds: 3600,
      now: () => clock,
    });
    encrypted = (await codec.encode([jsonPayload({ customer: SECRET })])).map(payloadToJson);
  });
  after(() => server.stop());

  const signIn = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    assert.equal(res.status, 200);
    return { setCookie: res.headers.get('set-cookie') ?? '', page: await res.text() };
  };
  const cookieOf = (setCookie: string) => setCookie.split(';')[0] ?? '';
  const decode = (cookie: string) =>
    fetch(`${server.url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie, Origin: UI_ORIGIN },
      body: JSON.stringify({ payloads: encrypted }),
    }).then((r) => r.status);

  it('a session expires on the server, whatever the browser keeps', async () => {
    const { setCookie } = await signIn();
    assert.match(setCookie, /Max-Age=3600/);
    const cookie = cookieOf(setCookie);
    assert.equal(await decode(cookie), 200);
    clock += 3599_000;
    assert.equal(await decode(cookie), 200, 'still valid just before the end');
    clock += 2_000;
    assert.equal(await decode(cookie), 401, 'expired: the server refuses the same cookie');
  });

  it('a cookie with a changed timestamp or id is refused (the signature covers them)', async () => {
    const cookie = cookieOf((await signIn()).setCookie);
    const [name, value] = cookie.split('=') as [string, string];
    const [v, issued, id, mac] = value.split('.') as [string, string, string, string];
    assert.equal(v, 'v1');
    assert.equal(await decode(cookie), 200);
    const later = `${name}=${[v, String(Number(issued) + 3600), id, mac].join('.')}`;
    assert.equal(await decode(later), 401);
    const otherId = `${name}=${[v, issued, `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`, mac].join('.')}`;
    assert.equal(await decode(otherId), 401);
    assert.ok(!value.includes(TOKEN), 'the cookie is not the token');
  });

  it('logout revokes the session on the server: the same cookie no longer decodes', async () => {
    const keep = cookieOf((await signIn()).setCookie);
    const cookie = cookieOf((await signIn()).setCookie);
    assert.notEqual(cookie, keep, 'each sign-in is its own session');
    assert.equal(await decode(cookie), 200);
    const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { Cookie: cookie } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /codec_session=;.*Max-Age=0/);
    assert.match(await out.text(), /ended on the server/);
    assert.equal(await decode(cookie), 401, 'a copy of the revoked cookie is refused');
    assert.equal(await decode(keep), 200, 'other sessions go on');
  });

  it('the cookie is Secure behind https (a TLS-terminating proxy), not on plain http', async () => {
    assert.doesNotMatch((await signIn()).setCookie, /Secure/);
    const behindHttps = await signIn({ 'X-Forwarded-Proto': 'https' });
    assert.match(behindHttps.setCookie, /; Secure/);
    assert.match(behindHttps.setCookie, /HttpOnly/);
    assert.match(behindHttps.setCookie, /SameSite=Strict/);
  });

  it('the sign-in page names the endpoint to set, under the host name the browser used', async () => {
    const port = new URL(server.url).port;
    // fetch() cannot set Host: a plain request as a browser at http://localhost:<port> sends it.
    const body = new URLSearchParams({ token: TOKEN }).toString();
    const page = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${server.url}/login`,
        {
          method: 'POST',
          headers: {
            Host: `localhost:${port}`,
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.once('error', reject);
      req.end(body);
    });
    assert.match(page, new RegExp(`set the endpoint to <code id="endpoint">http://localhost:${port}</code>`));
    assert.match(page, /Include cross-origin credentials/);
  });
});
