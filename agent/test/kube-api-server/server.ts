import { serverVersion } from './discovery.js';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomResourceDefinitionController } from './crd-controller.js';
import { Allocator } from './defaults.js';
import { Deleter } from './deletion.js';
import { errorOutcome, HttpApi, readBody } from './http-api.js';
import { kubeconfigFor } from './kubeconfig.js';
import { ObjectApi } from './objects.js';
import { ResourceRegistry } from './registry.js';
import { NAMESPACES, splitApiVersion, storageKeyOf, type ResourceType } from './resource-types.js';
import { parseLabelSelector } from './selectors.js';
import { WorkloadSimulator } from './simulator.js';
import { statusOf, unauthorized, unavailable } from './status.js';
import { ObjectStore } from './store.js';
import type { KubeApiTestServerOptions, KubeObject, ObjectFilter, ObjectRef, RequestLogEntry } from './types.js';
import { WatchHub } from './watch.js';

/** Namespaces every cluster starts with. */
const INITIAL_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/** The request URL; an unparsable one is logged and routed as `/`, which answers 404. */
function parseUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return new URL('http://localhost/');
  }
}

function checkOption(name: string, value: number | undefined, minimum: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= minimum)) throw new Error(`KubeApiTestServer: ${name} must be a number >= ${minimum}, got ${value}`);
}

/**
 * An in-process Kubernetes API server for tests: plain HTTP, the real wire protocol for what a GitOps
 * agent uses (discovery, CRUD, server-side apply with field managers, watch with resourceVersion,
 * bookmarks and 410 Gone, CRDs), a kwok-like workload simulator, fault injection, and a request log.
 * See README.md in this folder for fidelity and known gaps.
 */
export class KubeApiTestServer {
  /** Base URL, e.g. `http://127.0.0.1:39123`. */
  readonly url: string;
  private readonly log: RequestLogEntry[] = [];
  private unavailable = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly parts: {
      readonly store: ObjectStore;
      readonly registry: ResourceRegistry;
      readonly api: ObjectApi;
      readonly watches: WatchHub;
      readonly simulator: WorkloadSimulator;
      readonly crds: CustomResourceDefinitionController;
      readonly token: string | undefined;
    },
  ) {
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
  }

  /** Starts a server with the default namespaces, listening on `options.host`:`options.port`. */
  static async start(options: KubeApiTestServerOptions = {}): Promise<KubeApiTestServer> {
    checkOption('port', options.port, 0);
    checkOption('simulatorTickMs', options.simulatorTickMs, 1);
    checkOption('crdEstablishDelayMs', options.crdEstablishDelayMs, 0);
    checkOption('bookmarkIntervalMs', options.bookmarkIntervalMs, 1);
    checkOption('historyLimit', options.historyLimit, 1);
    const now = (): Date => new Date();
    const store = new ObjectStore(options.historyLimit ?? 1000);
    const registry = new ResourceRegistry();
    const controllers: { crds?: CustomResourceDefinitionController } = {};
    const api = new ObjectApi({
      store,
      allocator: new Allocator(),
      now,
      strategies: { 'apiextensions.k8s.io/CustomResourceDefinition': (before, after, scope) => controllers.crds!.strategy(before, after, scope) },
      mayCreate: (type) => controllers.crds!.mayCreate(type),
    });
    const crds = new CustomResourceDefinitionController(api, registry, options.crdEstablishDelayMs ?? 100, now);
    controllers.crds = crds;
    const deleter = new Deleter(api, store, registry, now);
    const watches = new WatchHub(api, store, options.bookmarkIntervalMs ?? 1000);
    const simulator = new WorkloadSimulator(api, store, now);
    for (const name of INITIAL_NAMESPACES) api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false, fieldManager: 'kube-apiserver' });

    // The server object exists before the instance that knows its URL; requests wait for neither.
    const started: { instance?: KubeApiTestServer } = {};
    const http = new HttpApi({ api, deleter, registry, watches, serverAddress: () => (started.instance === undefined ? '' : new URL(started.instance.url).host), version: serverVersion(options.kubernetesVersion) });
    const server = createServer((request, response) => {
      if (started.instance !== undefined) {
        void started.instance.serve(http, request, response);
        return;
      }
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify(statusOf(unavailable())));
    });
    // Watches are long-lived; the defaults would cut them.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const instance = new KubeApiTestServer(server, { store, registry, api, watches, simulator, crds, token: options.token });
    started.instance = instance;
    if (options.simulateWorkloads ?? true) simulator.start(options.simulatorTickMs ?? 50);
    return instance;
  }

  /** A complete kubeconfig: cluster, user (with the token when set), context and current-context. */
  kubeconfigYaml(options: { namespace?: string } = {}): string {
    return kubeconfigFor(this.url, this.parts.token, options.namespace ?? 'default');
  }

  async writeKubeconfig(path: string): Promise<void> {
    await writeFile(path, this.kubeconfigYaml(), { mode: 0o600 });
  }

  /** The stored object (a deep copy), read as `ref.apiVersion`; undefined when missing or the kind is unknown. */
  getObject(ref: ObjectRef): KubeObject | undefined {
    const { group, version } = splitApiVersion(ref.apiVersion);
    const type = this.parts.registry.knownKind(group, version, ref.kind);
    if (type === undefined) return undefined;
    const object = this.parts.store.get(storageKeyOf(type), type.namespaced ? (ref.namespace ?? 'default') : undefined, ref.name);
    return object === undefined ? undefined : this.parts.api.present({ ...type, version }, object);
  }

  /** Stored objects (deep copies) matching every given part of `filter`, in kind, namespace, name order. */
  listObjects(filter: ObjectFilter = {}): KubeObject[] {
    const wanted = filter.apiVersion === undefined ? undefined : splitApiVersion(filter.apiVersion);
    const matchesLabels = parseLabelSelector(filter.labelSelector);
    const types = new Map<string, ResourceType>(this.parts.registry.knownStorage().map((type) => [storageKeyOf(type), type]));
    return this.parts.store
      .entries()
      .flatMap(({ storageKey, object }) => {
        const type = types.get(storageKey);
        if (type === undefined) return [];
        if (wanted !== undefined && (type.group !== wanted.group || (!type.custom && type.version !== wanted.version))) return [];
        if (filter.kind !== undefined && type.kind !== filter.kind) return [];
        if (filter.namespace !== undefined && object.metadata.namespace !== filter.namespace) return [];
        if (!matchesLabels(object)) return [];
        return [this.parts.api.present(wanted === undefined ? type : { ...type, version: wanted.version }, object)];
      })
      .sort((a, b) => `${a.kind}/${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.namespace ?? ''}/${b.metadata.name}`));
  }

  /** Forgets all watch history: a watch resuming from an older resourceVersion gets 410 Gone. */
  compactHistory(): void {
    this.parts.store.compact();
  }

  /** Abruptly ends every open watch connection. */
  dropWatches(): void {
    this.parts.watches.dropAll();
  }

  /** While on, every request answers 503 (and open watches are cut), as if the API server were down. */
  setUnavailable(on: boolean): void {
    this.unavailable = on;
    if (on) this.parts.watches.dropAll();
  }

  /** Every request served so far, in order. */
  requestLog(): ReadonlyArray<RequestLogEntry> {
    return this.log.map((entry) => ({ ...entry }));
  }

  /** Stops the simulator and timers, cuts open watches, closes the listener. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.parts.simulator.stop();
      this.parts.crds.close();
      this.parts.watches.dropAll();
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closing;
  }

  private async serve(http: HttpApi, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = parseUrl(request.url);
    const record = (status: number): void => {
      this.log.push({ method, path: url.pathname, query: url.search.replace(/^\?/, ''), status, at: Date.now() });
    };
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record(status);
      if (response.headersSent || response.destroyed) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'cache-control': 'no-cache, private', ...headers });
      response.end(method === 'HEAD' ? undefined : text);
    };
    try {
      if (this.unavailable) throw unavailable();
      if (this.parts.token !== undefined && request.headers.authorization !== `Bearer ${this.parts.token}`) throw unauthorized();
      const body = await readBody(request);
      const outcome = http.handle(request, url, body);
      if ('stream' in outcome) outcome.stream(response, () => record(200));
      else send(outcome.status, outcome.body);
    } catch (error) {
      const { status, body } = errorOutcome(error);
      send(status, body, status === 503 ? { 'retry-after': '1' } : {});
      if (!request.readableEnded) request.resume();
    }
  }
}
