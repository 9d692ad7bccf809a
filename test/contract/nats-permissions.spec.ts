import { AckPolicy, DeliverPolicy, RetentionPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { NATS_PASSWORDS, startDocumentedNatsServer, type NatsServerProcess } from '../harness/nats.js';

const BUCKET = 'flotilla-desired';
const REPORTS = 'FLOTILLA_REPORTS';

/**
 * The documented server configuration (docs/nats/flotilla.conf) on a real nats-server: a cluster's
 * NATS user reads only its own desired state and writes only its own agent messages.
 */
describe('NATS permissions of the documented server configuration', () => {
  let nats: NatsServerProcess;
  let hub: NatsConnection;
  let edge1: NatsConnection;
  let hubKv: KV;

  const agentConnection = (cluster: 'edge-1' | 'edge-2') =>
    connect({ servers: nats.url, user: cluster, pass: NATS_PASSWORDS[cluster], inboxPrefix: `_INBOX_${cluster}` });
  const request = (subject: string, body: unknown) => edge1.request(subject, JSON.stringify(body), { timeout: 2000 });

  beforeAll(async () => {
    nats = await startDocumentedNatsServer();
    // What the hub creates at start, as the hub user (so the hub's own permissions are exercised too)
    hub = await connect({ servers: nats.url, user: 'flotilla-hub', pass: NATS_PASSWORDS.hub });
    hubKv = await new Kvm(jetstream(hub)).create(BUCKET, { history: 1 });
    await (await jetstreamManager(hub)).streams.add({ name: REPORTS, subjects: ['reports.>'], retention: RetentionPolicy.Workqueue });
    await hubKv.put('edge-1.web', 'desired state of edge-1');
    await hubKv.put('edge-2.web', 'desired state of edge-2');
    edge1 = await agentConnection('edge-1');
  });

  afterAll(async () => {
    await edge1?.close();
    await hub?.close();
    await nats?.dispose();
  });

  it('lets a cluster watch its own keys, and only those', async () => {
    const kv = await new Kvm(jetstream(edge1)).open(BUCKET, { bindOnly: true });
    const watch = await kv.watch({ key: 'edge-1.>' });
    const seen: string[] = [];
    void (async () => {
      for await (const entry of watch) seen.push(`${entry.key}=${entry.string()}`);
    })();
    await hubKv.put('edge-1.db', 'later');
    await eventually(() => seen.length === 2, { what: 'two entries of edge-1' });
    expect(seen).toEqual(['edge-1.web=desired state of edge-1', 'edge-1.db=later']);
    watch.stop();
  });

  it('lets a cluster publish its own agent messages', async () => {
    await expect(jetstream(edge1).publish('reports.edge-1', 'hello')).resolves.toMatchObject({ stream: REPORTS });
  });

  it.each([
    { name: "another cluster's keys", key: 'edge-2.>' },
    { name: 'every key', key: '>' },
  ])("refuses a watch of $name", async ({ key }) => {
    const kv = await new Kvm(jetstream(edge1)).open(BUCKET, { bindOnly: true });
    await expect(kv.watch({ key })).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.CONSUMER\.CREATE/);
  });

  it("refuses a consumer whose subject names the cluster's keys but whose request filters another cluster's", async () => {
    const reply = await request(`$JS.API.CONSUMER.CREATE.KV_${BUCKET}.sneaky.$KV.${BUCKET}.edge-1.>`, {
      stream_name: `KV_${BUCKET}`,
      config: { name: 'sneaky', filter_subject: `$KV.${BUCKET}.edge-2.>`, deliver_subject: '_INBOX_edge-1.sneaky', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.LastPerSubject },
    });
    expect(reply.json<{ error?: { err_code: number } }>().error?.err_code).toBe(10131);
  });

  it.each([
    { name: "a direct get of another cluster's key", subject: `$JS.API.DIRECT.GET.KV_${BUCKET}.$KV.${BUCKET}.edge-2.web`, body: {} },
    { name: 'a stream message get (it names the key in the body)', subject: `$JS.API.STREAM.MSG.GET.KV_${BUCKET}`, body: { last_by_subj: `$KV.${BUCKET}.edge-2.web` } },
    { name: 'a consumer on the reports stream', subject: `$JS.API.CONSUMER.CREATE.${REPORTS}.spy.reports.edge-2`, body: { stream_name: REPORTS, config: { name: 'spy', filter_subject: 'reports.edge-2' } } },
    { name: 'a stream listing', subject: '$JS.API.STREAM.NAMES', body: {} },
    { name: 'a consumer listing of the bucket', subject: `$JS.API.CONSUMER.NAMES.KV_${BUCKET}`, body: {} },
  ])('refuses $name', async ({ subject, body }) => {
    await expect(request(subject, body)).rejects.toThrow(/Permissions Violation for Publish/);
  });

  it.each([
    { name: "another cluster's agent messages", subject: 'reports.edge-2' },
    { name: 'its own desired state (only the hub writes it)', subject: `$KV.${BUCKET}.edge-1.web` },
    { name: "another cluster's desired state", subject: `$KV.${BUCKET}.edge-2.web` },
  ])('refuses to publish $name', async ({ subject }) => {
    await expect(jetstream(edge1).publish(subject, 'forged', { timeout: 2000 })).rejects.toThrow(/Permissions Violation for Publish/);
    expect((await hubKv.get('edge-1.web'))?.string()).toBe('desired state of edge-1');
    expect((await hubKv.get('edge-2.web'))?.string()).toBe('desired state of edge-2');
  });

  it.each([
    { name: 'the desired-state subjects', subject: `$KV.${BUCKET}.>` },
    { name: "another cluster's inbox", subject: '_INBOX_edge-2.>' },
    { name: 'the default inbox (the hub’s replies)', subject: '_INBOX.>' },
    { name: 'agent messages', subject: 'reports.>' },
  ])('refuses a subscription to $name', async ({ subject }) => {
    const closed = await edge1.subscribe(subject).closed;
    expect(String(closed)).toMatch(/Permissions Violation for Subscription/);
  });
});
