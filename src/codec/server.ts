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
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import { EncryptionCodec, describeCodecConfig, loadCodecConfig } from './index.js';
import { Sessions, sendJson } from './http.js';
import { type CodecRoutes, handleRequest } from './routes.js';
import type { Env } from '../config/env.js';
import { ConfigError } from '../shared/errors.js';
import { exitWith } from '../node/main.js';

const DEFAULT_CORS_ORIGIN = 'http://127.0.0.1:8233';
const DEFAULT_CODEC_SERVER_PORT = 8888;
/** Largest request body accepted (413 above it). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How long a browser session lasts (checked by the server, not only the browser's Max-Age). */
const SESSION_SECONDS = 8 * 3600;
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
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  let port = opts.port ?? 0;
  const routes: CodecRoutes = {
    codec: opts.codec,
    token: opts.token,
    origins: new Set(Array.isArray(opts.corsOrigin) ? opts.corsOrigin : [opts.corsOrigin]),
    limit: opts.maxBodyBytes ?? MAX_BODY_BYTES,
    sessions: new Sessions(opts.token, opts.sessionSeconds ?? SESSION_SECONDS, opts.now ?? Date.now),
    port: () => port,
  };
  const server = createServer((req, res) => {
    const started = Date.now();
    res.once('finish', () =>
      log(`${req.method ?? '?'} ${req.url ?? ''} ${res.statusCode} ${Date.now() - started}ms`),
    );
    handleRequest(routes, req, res).catch((err: unknown) => {
      log(`error on ${req.method ?? '?'} ${req.url ?? ''}: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error of the codec server' });
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  port = await listen(server, host, opts.port ?? 0);
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

/** Listens on `host:port` (0: a free port) and resolves with the port; a busy port is a ConfigError saying so. */
async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `Port ${port} (codec server) is busy on ${host}. Stop what uses it or set CODEC_SERVER_PORT to a free port.`,
            )
          : new ConfigError(
              `Cannot listen on ${host}:${port} (codec server, CODEC_SERVER_HOST/PORT): ${err.message}`,
            ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
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

async function main(): Promise<number> {
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
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  exitWith(main);
}
