import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer for tests, standing in for the Service or cloud load balancer in front of several
 * hub replicas: each accepted connection goes to the next backend round-robin; a backend that refuses
 * the connection is skipped, and when every backend refuses the client's connection is closed. No
 * health checks: like a plain L4 balancer, it only learns that a replica is gone by failing to connect.
 */
export class TcpBalancer {
  private readonly sockets = new Set<Socket>();
  private next = 0;
  private closed = false;
  /** Accepted client connections per backend address, for tests that check the spread. */
  readonly connectionsPerBackend = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly backends: readonly string[],
  ) {}

  /** Listens on 127.0.0.1 (random port) and balances over `backends` (`host:port` each). */
  static async start(backends: readonly string[]): Promise<TcpBalancer> {
    if (backends.length === 0) throw new Error('TcpBalancer needs at least one backend');
    const server = createServer();
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => done());
    });
    const port = (server.address() as { port: number }).port;
    const balancer = new TcpBalancer(server, `127.0.0.1:${port}`, backends);
    server.on('connection', (client) => balancer.accept(client));
    return balancer;
  }

  /** Closes every proxied connection (both sides), as a balancer restart or a network cut would. */
  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cutAll();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.pause();
    const start = this.next;
    this.next = (this.next + 1) % this.backends.length;
    this.connect(client, start, 0);
  }

  /** Tries backends from index `start`, one attempt each, until one accepts. */
  private connect(client: Socket, start: number, attempt: number): void {
    if (this.closed || client.destroyed) return;
    if (attempt >= this.backends.length) {
      client.destroy();
      return;
    }
    const address = this.backends[(start + attempt) % this.backends.length]!;
    const separator = address.lastIndexOf(':');
    const upstream = createConnection({ host: address.slice(0, separator), port: Number(address.slice(separator + 1)) });
    const onError = () => {
      upstream.destroy();
      this.connect(client, start, attempt + 1);
    };
    upstream.once('error', onError);
    upstream.once('connect', () => {
      upstream.off('error', onError);
      this.track(upstream);
      this.connectionsPerBackend.set(address, (this.connectionsPerBackend.get(address) ?? 0) + 1);
      const teardown = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', teardown);
      client.on('error', teardown);
      upstream.on('close', teardown);
      client.on('close', teardown);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
