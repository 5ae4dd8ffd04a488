/**
 * The codec server's routes (src/codec/server.ts starts the server): CORS preflight, health,
 * sign-in and sign-out for the Web UI, and `POST …/decode` / `…/encode` for a holder of the token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import { PayloadDecryptionError, PayloadJsonError, payloadToJson, payloadsFromJsonBody } from './index.js';
import {
  type Sessions,
  cookie,
  escapeHtml,
  overHttps,
  readBody,
  sameSecret,
  send,
  sendHtml,
  sendJson,
} from './http.js';

const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';
const SESSION_COOKIE = 'codec_session';

/** What every route reads: built once by startCodecServer. */
export interface CodecRoutes {
  codec: PayloadCodec;
  /** The bearer token (CODEC_SERVER_TOKEN). */
  token: string;
  /** The Web UI origins that get CORS headers. */
  origins: Set<string>;
  /** Largest request body accepted (413 above it). */
  limit: number;
  sessions: Sessions;
  /** The port listened on: /login names it when the browser sent no Host header. */
  port: () => number;
}

/** Answers one request of the codec server. */
export async function handleRequest(
  r: CodecRoutes,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const origin = req.headers.origin;
  const fromUi = origin !== undefined && r.origins.has(origin);
  res.setHeader('Vary', 'Origin');
  if (fromUi) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  }
  const path = new URL(req.url ?? '/', 'http://codec.invalid').pathname;
  const op = /\/(decode|encode)\/?$/.exec(path)?.[1] as 'decode' | 'encode' | undefined;

  if (req.method === 'OPTIONS') return preflight(r, res, fromUi);
  if (path === '/health' && req.method === 'GET') return send(res, 200, 'ok\n');
  if (path === '/login') return login(r, req, res);
  if (path === '/logout' && req.method === 'POST') return logout(r, req, res);
  if (!op) return send(res, 404, 'not found: POST /decode or /encode with {"payloads": [...]}\n');
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST, OPTIONS');
    return send(res, 405, `method not allowed: POST /${op}\n`);
  }
  return codecOperation(r, req, res, op, fromUi);
}

function uiOrigins(r: CodecRoutes): string {
  return [...r.origins].join(', ');
}

function sessionCookie(req: IncomingMessage, value: string, maxAge: number): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${overHttps(req) ? '; Secure' : ''}`;
}

function preflight(r: CodecRoutes, res: ServerResponse, fromUi: boolean): void {
  if (!fromUi)
    return send(
      res,
      403,
      `origin not allowed: only ${uiOrigins(r)} (CODEC_CORS_ORIGIN) may call this server\n`,
    );
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
  res.setHeader('Access-Control-Max-Age', '600');
  res.statusCode = 204;
  res.end();
}

function authorized(r: CodecRoutes, req: IncomingMessage, fromUi: boolean): boolean {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && sameSecret(bearer, r.token)) return true;
  // The session cookie only counts on requests the Web UI makes (CORS origin), never from other sites.
  return fromUi && r.sessions.check(cookie(req, SESSION_COOKIE)) !== undefined;
}

/** `POST …/decode` or `…/encode`: the token or a Web UI session, then the codec on the payloads. */
async function codecOperation(
  r: CodecRoutes,
  req: IncomingMessage,
  res: ServerResponse,
  op: 'decode' | 'encode',
  fromUi: boolean,
): Promise<void> {
  if (!authorized(r, req, fromUi)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="codec-server"');
    return sendJson(res, 401, {
      error:
        'unauthorized: send Authorization: Bearer <CODEC_SERVER_TOKEN>, or sign in at /login and let the Web UI include credentials',
    });
  }
  const body = await readBody(req, r.limit);
  if (body === undefined) {
    res.setHeader('Connection', 'close');
    return sendJson(res, 413, { error: `request body larger than ${r.limit} bytes` });
  }
  let payloads;
  try {
    payloads = payloadsFromJsonBody(body);
  } catch (err) {
    if (err instanceof PayloadJsonError) return sendJson(res, 400, { error: err.message });
    throw err;
  }
  try {
    const out = op === 'decode' ? await r.codec.decode(payloads) : await r.codec.encode(payloads);
    return sendJson(res, 200, { payloads: out.map(payloadToJson) });
  } catch (err) {
    if (err instanceof PayloadDecryptionError) return sendJson(res, 400, { error: err.message });
    throw err;
  }
}

/** `GET /login`: the form; `POST /login`: the token for a session cookie, and how to set up the Web UI. */
async function login(r: CodecRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = `<form method="post" action="/login"><p><label>Codec server token (CODEC_SERVER_TOKEN)<br><input type="password" name="token" size="40" autocomplete="current-password" autofocus></label></p><p><button type="submit">Sign in</button></p></form>`;
  if (req.method === 'GET') return sendHtml(res, 200, 'Codec server sign-in', form);
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET, POST');
    return send(res, 405, 'method not allowed: GET or POST /login\n');
  }
  const body = await readBody(req, 8 * 1024);
  const token = new URLSearchParams(body ?? '').get('token')?.trim() ?? '';
  if (!token || !sameSecret(token, r.token))
    return sendHtml(res, 401, 'Codec server sign-in', `<p>Wrong token.</p>${form}`);
  res.setHeader('Set-Cookie', sessionCookie(req, r.sessions.create(), r.sessions.seconds));
  // The endpoint to configure: this server under the host name the browser used, which must be
  // the host name of the Web UI's address too (a cookie of 127.0.0.1 is not sent from localhost).
  const here = `${overHttps(req) ? 'https' : 'http'}://${req.headers.host ?? `127.0.0.1:${r.port()}`}`;
  const signOut = `<form method="post" action="/logout"><p><button type="submit">Sign out</button></p></form>`;
  return sendHtml(
    res,
    200,
    'Signed in',
    `<p>This browser may decode payloads for ${Math.round(r.sessions.seconds / 360) / 10} hours.</p><p>In the Web UI (${escapeHtml(uiOrigins(r))}), open the Codec Server settings, set the endpoint to <code id="endpoint">${escapeHtml(here)}</code> and turn on “Include cross-origin credentials”. Open the Web UI under the same host name as this page (both 127.0.0.1 or both localhost).</p>${signOut}`,
  );
}

/** `POST /logout`: ends the session on the server and removes its cookie. */
function logout(r: CodecRoutes, req: IncomingMessage, res: ServerResponse): void {
  const revoked = r.sessions.revoke(cookie(req, SESSION_COOKIE));
  res.setHeader('Set-Cookie', sessionCookie(req, '', 0));
  return sendHtml(
    res,
    200,
    'Signed out',
    revoked
      ? '<p>The session is ended on the server and its cookie removed.</p>'
      : '<p>There was no valid session; the cookie is removed.</p>',
  );
}
