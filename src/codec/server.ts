/**
 * The codec server: lets the Temporal Web UI and CLI show the payloads the encryption codec
 * (src/codec) turns into ciphertext, for someone holding its token. It follows Temporal's codec
 * server protocol: `POST …/decode` and `POST …/encode` take and answer `{"payloads": [...]}` in
 * proto3 JSON (bytes as base64); only the last path segment selects the operation.
 *
 * Access: `Authorization: Bearer <CODEC_SERVER_TOKEN>` (the CLI's `--codec-auth`), compared in
 * constant time; 401 otherwise. The Web UI cannot add that header (it only forwards an OIDC
 * token), so a browser signs in once at `/login` with the token and gets an HttpOnly,
 * SameSite=Strict session cookie, which the UI sends when its codec setting "Include
 * cross-origin credentials" is on; the cookie is accepted only on requests from the UI origin.
 * CORS headers go only to that origin (CODEC_CORS_ORIGIN), with credentials allowed.
 *
 * Sessions: the cookie is `v1.<issued at>.<session id>.<HMAC>`, signed with a key derived from
 * the token. The server checks the signature and the age on every request (8 hours), whatever
 * the browser keeps; `POST /logout` revokes the session on the server (until it would have
 * expired) and removes the cookie; a new CODEC_SERVER_TOKEN ends every session. Behind https
 * (the request is TLS or carries `X-Forwarded-Proto: https`) the cookie is `Secure`.
 *
 *   npx tsx src/codec/server.ts
 *
 * Settings: PAYLOAD_ENCRYPTION_KEY (+ _ID, PAYLOAD_DECRYPTION_KEYS) as for the worker,
 * CODEC_SERVER_TOKEN (at least 16 characters), CODEC_CORS_ORIGIN (default
 * http://127.0.0.1:8233), CODEC_SERVER_PORT (8888), CODEC_SERVER_HOST (127.0.0.1).
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import {
  EncryptionCodec,
  PayloadDecryptionError,
  PayloadJsonError,
  describeCodecConfig,
  loadCodecConfig,
  payloadToJson,
  payloadsFromJsonBody,
} from './index.js';
import {
  Sessions,
  cookie,
  escapeHtml,
  overHttps,
  readBody,
  sameSecret,
  send,
  sendHtml,
  sendJson,
} from './http.js';
import type { Env } from '../config/env.js';
import { ConfigError } from '../shared/errors.js';

const DEFAULT_CORS_ORIGIN = 'http://127.0.0.1:8233';
const DEFAULT_CODEC_SERVER_PORT = 8888;
/** Largest request body accepted (413 above it). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const SESSION_COOKIE = 'codec_session';
/** How long a browser session lasts (checked by the server, not only the browser's Max-Age). */
const SESSION_SECONDS = 8 * 3600;
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';
const MIN_TOKEN_CHARS = 16;

/** Settings of the codec server process. */
export interface CodecServerConfig {
  token: string;
  corsOrigins: string[];
  port: number;
  host: string;
}

/** Reads and validates CODEC_SERVER_TOKEN, CODEC_CORS_ORIGIN, CODEC_SERVER_PORT and CODEC_SERVER_HOST. */
export function loadCodecServerConfig(env: Env = process.env): CodecServerConfig {
  const token = env.CODEC_SERVER_TOKEN?.trim() ?? '';
  const tokenForm = `expected at least ${MIN_TOKEN_CHARS} characters without spaces, e.g. from \`openssl rand -base64 24\``;
  if (!token) throw new ConfigError(`CODEC_SERVER_TOKEN is not set: ${tokenForm}.`);
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token))
    throw new ConfigError(`CODEC_SERVER_TOKEN is not valid: ${tokenForm}.`);

  const rawOrigins = env.CODEC_CORS_ORIGIN?.trim() || DEFAULT_CORS_ORIGIN;
  const corsOrigins = rawOrigins
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  for (const origin of corsOrigins) {
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok)
      throw new ConfigError(
        `CODEC_CORS_ORIGIN=${JSON.stringify(rawOrigins)} is not valid: expected the Web UI's origin, scheme://host[:port] without a path, e.g. ${DEFAULT_CORS_ORIGIN} (comma-separate several).`,
      );
  }
  if (corsOrigins.length === 0)
    throw new ConfigError(
      `CODEC_CORS_ORIGIN is empty: expected the Web UI's origin, e.g. ${DEFAULT_CORS_ORIGIN}.`,
    );

  const rawPort = env.CODEC_SERVER_PORT?.trim();
  const port = rawPort ? Number(rawPort) : DEFAULT_CODEC_SERVER_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(
      `CODEC_SERVER_PORT=${JSON.stringify(rawPort)} is not a port: expected an integer from 0 to 65535 (0: any free port).`,
    );
  const host = env.CODEC_SERVER_HOST?.trim() || '127.0.0.1';
  if (/[\s/]/.test(host))
    throw new ConfigError(
      `CODEC_SERVER_HOST=${JSON.stringify(host)} is not valid: expected an IP address or host name to listen on, e.g. 127.0.0.1.`,
    );
  return { token, corsOrigins, port, host };
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer token (at least 16 characters). */
  token: string;
  /** The Web UI origin(s) that get CORS headers, e.g. http://127.0.0.1:8233. */
  corsOrigin: string | string[];
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  /** One line per request (method, path, status), never payloads or tokens. */
  log?: (line: string) => void;
  /** Session lifetime in seconds (default SESSION_SECONDS). */
  sessionSeconds?: number;
  /** The clock, in ms since the epoch (tests move it forward). */
  now?: () => number;
}

export interface RunningCodecServer {
  /** Base URL: the codec endpoint to configure in the Web UI and CLI. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(opts: CodecServerOptions): Promise<RunningCodecServer> {
  if (opts.token.length < MIN_TOKEN_CHARS)
    throw new ConfigError(
      `CODEC_SERVER_TOKEN is not valid: expected at least ${MIN_TOKEN_CHARS} characters.`,
    );
  const origins = new Set(Array.isArray(opts.corsOrigin) ? opts.corsOrigin : [opts.corsOrigin]);
  const limit = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const sessions = new Sessions(opts.token, opts.sessionSeconds ?? SESSION_SECONDS, opts.now ?? Date.now);
  const sessionCookie = (req: IncomingMessage, value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${overHttps(req) ? '; Secure' : ''}`;
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  const uiOrigins = [...origins].join(', ');
  let port = opts.port ?? 0;

  const authorized = (req: IncomingMessage, fromUi: boolean): boolean => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && sameSecret(bearer, opts.token)) return true;
    // The session cookie only counts on requests the Web UI makes (CORS origin), never from other sites.
    return fromUi && sessions.check(cookie(req, SESSION_COOKIE)) !== undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    const fromUi = origin !== undefined && origins.has(origin);
    res.setHeader('Vary', 'Origin');
    if (fromUi) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    const path = new URL(req.url ?? '/', 'http://codec.invalid').pathname;
    const op = /\/(decode|encode)\/?$/.exec(path)?.[1] as 'decode' | 'encode' | undefined;

    if (req.method === 'OPTIONS') {
      if (!fromUi)
        return send(
          res,
          403,
          `origin not allowed: only ${uiOrigins} (CODEC_CORS_ORIGIN) may call this server\n`,
        );
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.statusCode = 204;
      return void res.end();
    }
    if (path === '/health' && req.method === 'GET') return send(res, 200, 'ok\n');
    if (path === '/login') return login(req, res);
    if (path === '/logout' && req.method === 'POST') {
      const revoked = sessions.revoke(cookie(req, SESSION_COOKIE));
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
    if (!op) return send(res, 404, 'not found: POST /decode or /encode with {"payloads": [...]}\n');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      return send(res, 405, `method not allowed: POST /${op}\n`);
    }
    if (!authorized(req, fromUi)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="codec-server"');
      return sendJson(res, 401, {
        error:
          'unauthorized: send Authorization: Bearer <CODEC_SERVER_TOKEN>, or sign in at /login and let the Web UI include credentials',
      });
    }
    const body = await readBody(req, limit);
    if (body === undefined) {
      res.setHeader('Connection', 'close');
      return sendJson(res, 413, { error: `request body larger than ${limit} bytes` });
    }
    let payloads;
    try {
      payloads = payloadsFromJsonBody(body);
    } catch (err) {
      if (err instanceof PayloadJsonError) return sendJson(res, 400, { error: err.message });
      throw err;
    }
    try {
      const out = op === 'decode' ? await opts.codec.decode(payloads) : await opts.codec.encode(payloads);
      return sendJson(res, 200, { payloads: out.map(payloadToJson) });
    } catch (err) {
      if (err instanceof PayloadDecryptionError) return sendJson(res, 400, { error: err.message });
      throw err;
    }
  };

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = `<form method="post" action="/login"><p><label>Codec server token (CODEC_SERVER_TOKEN)<br><input type="password" name="token" size="40" autocomplete="current-password" autofocus></label></p><p><button type="submit">Sign in</button></p></form>`;
    if (req.method === 'GET') return sendHtml(res, 200, 'Codec server sign-in', form);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      return send(res, 405, 'method not allowed: GET or POST /login\n');
    }
    const body = await readBody(req, 8 * 1024);
    const token = new URLSearchParams(body ?? '').get('token')?.trim() ?? '';
    if (!token || !sameSecret(token, opts.token))
      return sendHtml(res, 401, 'Codec server sign-in', `<p>Wrong token.</p>${form}`);
    res.setHeader('Set-Cookie', sessionCookie(req, sessions.create(), sessions.seconds));
    // The endpoint to configure: this server under the host name the browser used, which must be
    // the host name of the Web UI's address too (a cookie of 127.0.0.1 is not sent from localhost).
    const here = `${overHttps(req) ? 'https' : 'http'}://${req.headers.host ?? `127.0.0.1:${port}`}`;
    const logout = `<form method="post" action="/logout"><p><button type="submit">Sign out</button></p></form>`;
    return sendHtml(
      res,
      200,
      'Signed in',
      `<p>This browser may decode payloads for ${Math.round(sessions.seconds / 360) / 10} hours.</p><p>In the Web UI (${escapeHtml(uiOrigins)}), open the Codec Server settings, set the endpoint to <code id="endpoint">${escapeHtml(here)}</code> and turn on “Include cross-origin credentials”. Open the Web UI under the same host name as this page (both 127.0.0.1 or both localhost).</p>${logout}`,
    );
  };

  const server = createServer((req, res) => {
    const started = Date.now();
    res.once('finish', () =>
      log(`${req.method ?? '?'} ${req.url ?? ''} ${res.statusCode} ${Date.now() - started}ms`),
    );
    handle(req, res).catch((err: unknown) => {
      log(`error on ${req.method ?? '?'} ${req.url ?? ''}: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error of the codec server' });
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `Port ${opts.port ?? 0} (codec server) is busy on ${host}. Stop what uses it or set CODEC_SERVER_PORT to a free port.`,
            )
          : new ConfigError(
              `Cannot listen on ${host}:${opts.port ?? 0} (codec server, CODEC_SERVER_HOST/PORT): ${err.message}`,
            ),
      ),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  ({ port } = server.address() as AddressInfo);
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** How to point the Web UI and the CLI at the codec server (no secrets in it). */
export function codecServerHelp(url: string, corsOrigins: string | string[]): string[] {
  const ui = Array.isArray(corsOrigins) ? corsOrigins.join(', ') : corsOrigins;
  return [
    `Web UI (${ui}): open ${url}/login in the same browser and enter CODEC_SERVER_TOKEN; then in the`,
    `  Web UI's Codec Server settings set the endpoint to ${url} and turn on "Include cross-origin credentials"`,
    `  (with the Web UI at localhost, use localhost in both URLs too).`,
    `Temporal CLI: --codec-endpoint ${url} --codec-auth "Bearer $CODEC_SERVER_TOKEN" (or TEMPORAL_CODEC_ENDPOINT / TEMPORAL_CODEC_AUTH)`,
  ];
}

async function main(): Promise<void> {
  const codecConfig = loadCodecConfig(process.env, { required: true });
  if (!codecConfig) throw new ConfigError('PAYLOAD_ENCRYPTION_KEY is not set.');
  const cfg = loadCodecServerConfig();
  const server = await startCodecServer({
    codec: new EncryptionCodec(codecConfig),
    token: cfg.token,
    corsOrigin: cfg.corsOrigins,
    port: cfg.port,
    host: cfg.host,
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  console.log(`codec server       ${server.url} (${describeCodecConfig(codecConfig)})`);
  for (const line of codecServerHelp(server.url, cfg.corsOrigins)) console.log(line);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await server.stop();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
}
