/**
 * The codec server's sessions and HTTP plumbing: signed, timestamped session cookies (the Web
 * UI cannot send a bearer token, so a browser signs in once), request bodies read with a
 * limit, and responses that are never cached or sniffed. server.ts holds the routes.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();
export const sameSecret = (a: string, b: string) => timingSafeEqual(sha256(a), sha256(b));

/**
 * Signed, timestamped session cookies: `v1.<issued at, s>.<random id>.<HMAC-SHA256>`. The HMAC key
 * is derived from the token, so only this server makes valid ones and a new token ends them all.
 */
export class Sessions {
  private readonly key: Buffer;
  /** Revoked session ids, with the time (s) they would have expired anyway. */
  private readonly revoked = new Map<string, number>();

  constructor(
    token: string,
    readonly seconds: number,
    private readonly now: () => number,
  ) {
    this.key = createHmac('sha256', token).update('codec-server-session/v2').digest();
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  create(): string {
    const body = `v1.${this.nowSeconds()}.${randomBytes(16).toString('base64url')}`;
    return `${body}.${this.sign(body)}`;
  }

  /** The session id of a valid, unexpired, unrevoked cookie value; undefined otherwise. */
  check(value: string | undefined): string | undefined {
    const m = /^(v1\.(\d{1,12})\.([A-Za-z0-9_-]{22}))\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (!m || !m[1] || !m[2] || !m[3] || !m[4]) return undefined;
    if (!sameSecret(this.sign(m[1]), m[4])) return undefined;
    const issued = Number(m[2]);
    const now = this.nowSeconds();
    if (issued > now + 60 || now - issued >= this.seconds) return undefined;
    if (this.revoked.has(m[3])) return undefined;
    return m[3];
  }

  /** Revokes the session of `value` (when valid) until it would have expired. */
  revoke(value: string | undefined): boolean {
    const id = this.check(value);
    if (!id) return false;
    const now = this.nowSeconds();
    for (const [r, until] of this.revoked) if (until <= now) this.revoked.delete(r);
    this.revoked.set(id, Number(value?.split('.')[1] ?? now) + this.seconds);
    return true;
  }
}

/** Whether the browser reached this server over https (directly or through a TLS-terminating proxy). */
export function overHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const proto = req.headers['x-forwarded-proto'];
  return (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase() === 'https';
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Reads the body up to `limit` bytes; `undefined` when it is larger (the rest is drained, not kept). */
export function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

export const sendJson = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, JSON.stringify(value), 'application/json');

export function sendHtml(res: ServerResponse, status: number, title: string, body: string): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  );
  res.setHeader('X-Frame-Options', 'DENY');
  send(
    res,
    status,
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>body{font-family:sans-serif;max-width:40em;margin:3em auto}</style></head><body><h1>${title}</h1>${body}</body></html>`,
    'text/html; charset=utf-8',
  );
}

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
