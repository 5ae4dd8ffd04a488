/**
 * A TCP proxy in front of a server (PostgreSQL in the stop tests) that can freeze: from then on
 * it forwards nothing either way and answers no new connection, while keeping every socket
 * open. A client then waits for an answer that never comes, the way it does behind a network
 * that drops packets: a call that ignores its cancellation because it is stuck in I/O.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

/** A running proxy. */
export interface FreezeProxy {
  port: number;
  /** Stops forwarding (both ways, existing and new connections); sockets stay open. */
  freeze(): void;
  /** Bytes clients sent since the freeze: proof that someone is waiting on the frozen server. */
  bytesWhileFrozen(): number;
  /** Closes the listener and every socket. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port to 127.0.0.1:`targetPort`. */
export async function startFreezeProxy(targetPort: number): Promise<FreezeProxy> {
  let frozen = false;
  let whileFrozen = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server: Server = createServer((client) => {
    track(client);
    if (frozen) {
      client.on('data', (d: Buffer) => (whileFrozen += d.length));
      return;
    }
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    track(upstream);
    client.on('data', (d: Buffer) => {
      if (frozen) whileFrozen += d.length;
      else upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!frozen) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    freeze: () => {
      frozen = true;
    },
    bytesWhileFrozen: () => whileFrozen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
