/**
 * A vendor that is not the simulator: a real HTTP server that speaks the contract
 * (`/branches`, `/employees`, `/sales`, the `x-api-key` header) from records given as raw
 * JSON text, byte for byte, so a test can send what the simulator never would: numbers
 * beyond 2^53, keys in another order, duplicate keys, envelopes about another id. It ignores
 * `from`/`to` and pagination (the contract makes both optional), and a handler can take over
 * any request (redirects, stalled bodies, 404s). Every request is recorded with its headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Pipeline, Stack } from './harness.js';

/** A request as the server saw it. */
export interface SeenRequest {
  path: string;
  params: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/** Takes over a request: answer with `res`, or return false to let the scripted data answer. */
export type Handler = (req: SeenRequest, res: ServerResponse) => boolean | Promise<boolean>;

/** The data served, as raw JSON texts of records. Ids in the maps are decimal digits. */
export interface ScriptedData {
  /** Branch record texts by branch name. */
  branches: Record<string, string>;
  /** Employee record texts by branch id. */
  employees: Record<string, string[]>;
  /** Sale record texts by salesperson id. */
  sales: Record<string, string[]>;
}

/** A running scripted vendor. */
export class ScriptedVendor {
  readonly requests: SeenRequest[] = [];
  handler: Handler | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly data: ScriptedData,
    readonly apiKey: string,
  ) {}

  /** Starts on a free loopback port. */
  static async start(data: ScriptedData, apiKey: string, handler?: Handler): Promise<ScriptedVendor> {
    const server = createServer();
    const vendor = new ScriptedVendor(server, data, apiKey);
    vendor.handler = handler;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      vendor.answer(req, res).catch(() => res.destroy());
    });
    server.on('connection', (s: Socket) => {
      vendor.sockets.add(s);
      s.on('close', () => vendor.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return vendor;
  }

  get url(): string {
    const a = this.server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  /** Requests to one path. */
  seen(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://vendor.invalid');
    const seen: SeenRequest = { path: url.pathname, params: url.searchParams, headers: req.headers };
    this.requests.push(seen);
    if (this.handler && (await this.handler(seen, res))) return;
    if (req.headers['x-api-key'] !== this.apiKey) {
      send(res, 401, '{"error":"bad key"}');
      return;
    }
    send(res, ...this.scripted(url));
  }

  /** The scripted answer to a request: status and body text. */
  private scripted(url: URL): [number, string] {
    const p = url.searchParams;
    const d = this.data;
    if (url.pathname === '/branches') return [200, `{"result":[${d.branches[p.get('branch') ?? ''] ?? ''}]}`];
    if (url.pathname === '/employees') {
      const id = p.get('branchID') ?? '';
      const list = d.employees[id];
      if (!list) return [404, '{"error":"no such branch"}'];
      return [200, `{"result":{"branch_id":${id},"employees":[${list.join(',')}]}}`];
    }
    if (url.pathname === '/sales') {
      const id = p.get('salespersonsID') ?? '';
      const list = d.sales[id];
      if (!list) return [404, '{"error":"no such salesperson"}'];
      return [200, `{"result":{"employee_id":${id},"sales":[${list.join(',')}]}}`];
    }
    return [404, '{"error":"unknown path"}'];
  }
}

/** Sends a JSON text as it is. */
export function send(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
  return true;
}

/** A sale record's JSON text with the contract's fields; `extra` is spliced in as raw text. */
export function saleText(id: string, extra = '', timestamp = '2026-05-01 09:30:00'): string {
  return `{"id":${id},"transaction_timestamp":"${timestamp}","amount":"12.50","product":"Widget","quantity":3,"customer":"ACME"${extra ? `,${extra}` : ''}}`;
}

/** One branch with one salesperson: the smallest cascade, ready to receive hostile sales. */
export function oneBranch(
  branchId: string,
  salespersonId: string,
  sales: string[],
  name = 'Akron',
): ScriptedData {
  return {
    branches: {
      [name]: `{"id":${branchId},"branch_name":"${name}","employees":1,"location":"Ohio"}`,
    },
    employees: {
      [branchId]: [`{"id":${salespersonId},"occupation":"salesperson","name":"Pat Doe"}`],
    },
    sales: { [salespersonId]: sales },
  };
}

/**
 * Registers an `after` hook on the current suite and returns a function that starts a
 * scripted vendor and a pipeline on `stack` whose workers point at it.
 */
export function useScriptedVendors(
  stack: Stack,
): (...args: Parameters<typeof ScriptedVendor.start>) => Promise<{ vendor: ScriptedVendor; p: Pipeline }> {
  const vendors: ScriptedVendor[] = [];
  after(() => Promise.all(vendors.map((v) => v.stop())));
  return async (...args) => {
    const vendor = await ScriptedVendor.start(...args);
    vendors.push(vendor);
    return { vendor, p: await stack.pipeline({}, { vendorUrl: vendor.url }) };
  };
}
