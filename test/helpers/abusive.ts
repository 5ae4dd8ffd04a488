/**
 * Answers that are well-formed but abusive, for a scripted vendor: a gzip bomb (a megabyte on
 * the wire, a gigabyte of JSON whitespace inside), a page with one enormous field, a body that
 * never ends, and a worker's peak resident memory to judge what they cost.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createGzip } from 'node:zlib';

/** One gibibyte. */
export const GiB = 1024 ** 3;
/** One mebibyte. */
export const MiB = 1024 ** 2;

/**
 * `prefix`, `whitespace` bytes of spaces, then `suffix`, gzip-compressed (about 1/1000 of the
 * whitespace on the wire). Built in slices, so the test never holds the inflated text.
 */
export async function gzipBomb(prefix: string, whitespace: number, suffix: string): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  const slice = Buffer.alloc(8 * MiB, 0x20);
  gz.write(prefix);
  for (let left = whitespace; left > 0; left -= slice.length) {
    if (!gz.write(left >= slice.length ? slice : slice.subarray(0, left)))
      await new Promise((r) => gz.once('drain', r));
  }
  gz.end(suffix);
  await ended;
  return Buffer.concat(out);
}

/** Sends bytes as they are, with `headers` (a gzip bomb: `content-encoding: gzip`). */
export function sendBytes(
  res: ServerResponse,
  status: number,
  bytes: Uint8Array,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(bytes);
  return true;
}

/**
 * Sends `prefix`, then spaces for as long as the client reads (each write waits for the
 * socket to drain), and resolves with the bytes sent once the client closed the connection.
 */
export function sendEndless(res: ServerResponse, prefix: string): Promise<number> {
  res.writeHead(200, { 'content-type': 'application/json' });
  const slice = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  let closed = false;
  return new Promise((resolve) => {
    res.on('close', () => {
      closed = true;
      resolve(sent);
    });
    const pump = () => {
      while (!closed) {
        sent += slice.length;
        if (!res.write(slice)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.write(prefix);
    pump();
  });
}

/** Peak resident memory of a process so far, bytes (VmHWM of /proc/<pid>/status). */
export function peakRss(pid: number | 'self' = 'self'): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
