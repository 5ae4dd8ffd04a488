/**
 * A local HTTP receiver standing in for a webhook (Slack, a follow-up service) or any
 * endpoint the pipeline POSTs to: a real server that records every body and answers with
 * the status it was given. Its URL carries a secret-looking path, as a real webhook's does.
 */
import { createServer, type Server } from 'node:http';

/** A running receiver. */
export interface Receiver {
  url: string;
  /** Every body as received. */
  raw: string[];
  /** Every body that was JSON, parsed. */
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** The secret part of every receiver URL: a test can look for it in histories and logs. */
export const RECEIVER_SECRET = 'SECRET-hook-token-5150';

/** Starts a receiver on a free loopback port that answers every request with `status`. */
export async function receiver(status = 200): Promise<Receiver> {
  const raw: string[] = [];
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      raw.push(data);
      try {
        bodies.push(JSON.parse(data) as Record<string, unknown>);
      } catch {
        // not JSON (an AWS query-protocol body, say): kept in `raw` only
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/services/T0001/B0002/${RECEIVER_SECRET}`,
    raw,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
