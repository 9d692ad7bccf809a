import { request, type IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { bearer } from './auth.js';

/**
 * Requests as a hostile page or a misconfigured client makes them, without the niceties of fetch:
 * headers exactly as given (`host` and `origin` included), one fresh connection each.
 */

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** `extensions.code` of each GraphQL error, when the body is GraphQL JSON. */
  readonly codes: (string | undefined)[];
  readonly data: unknown;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** One HTTP request to 127.0.0.1:`port` on a fresh connection, headers exactly as given (`host` included). */
export function send(port: number, { method, path, headers = {}, body }: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, agent: false, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: { data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined;
          try {
            json = JSON.parse(text) as typeof json;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, codes: (json?.errors ?? []).map((e) => e.extensions?.code), data: json?.data });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} got no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RawUpgrade {
  /** 101 when the upgrade happened; otherwise the HTTP status the hub refused it with. */
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly codes: (string | undefined)[];
  /** The hub answered `connection_init` (with the admin token) with `connection_ack`. */
  readonly acked: boolean;
}

/** A graphql-transport-ws upgrade of /graphql with the given Origin/Host, then `connection_init` with the admin token. */
export function upgrade(port: number, token: string, options: { origin?: string; host?: string }): Promise<RawUpgrade> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', {
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      headers: options.host !== undefined ? { host: options.host } : {},
    });
    let settled = false;
    const settle = (answer: RawUpgrade) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ status: 0, headers: {}, codes: [], acked: false }), 10_000);
    socket.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        let codes: (string | undefined)[] = [];
        try {
          codes = ((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: { extensions?: { code?: string } }[] }).errors ?? []).map((e) => e.extensions?.code);
        } catch {
          codes = [];
        }
        settle({ status: res.statusCode ?? 0, headers: res.headers, codes, acked: false });
      });
    });
    let upgradeHeaders: IncomingHttpHeaders = {};
    socket.on('upgrade', (res) => (upgradeHeaders = res.headers));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: bearer(token) } })));
    socket.on('message', (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { type: string };
      settle({ status: 101, headers: upgradeHeaders, codes: [], acked: message.type === 'connection_ack' });
    });
    socket.on('close', () => settle({ status: 101, headers: upgradeHeaders, codes: [], acked: false }));
    socket.on('error', () => settle({ status: 0, headers: {}, codes: [], acked: false }));
  });
}
