import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlClient } from '../harness/graphql.js';
import { TEST_ADMIN_TOKEN } from '../harness/auth.js';
import { HUB_MAIN, startHub, type HubProcess } from '../harness/processes.js';

/**
 * RELIABILITY.md row 24: a local user on the hub's machine cannot read the embedded database or the
 * data folder. The hub is a real process on the embedded database (no DATABASE_URL); another local
 * user is played by `nobody`, which needs this test to run as root (CI does).
 */

/** The uid/gid of `nobody` on Debian. */
const NOBODY = 65534;
const canSwitchUser = process.getuid?.() === 0;

/** Every entry under `dir` (itself included) whose mode grants anything to group or others. */
function looseEntries(dir: string): string[] {
  const loose: string[] = [];
  const visit = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) loose.push(`${(stat.mode & 0o777).toString(8)} ${path}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return loose;
}

/** Gives group and others read/write on PGlite's files and folders, as the hub before this change left them. */
function loosenLikeTheEarlierVersion(dir: string): void {
  const visit = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      chmodSync(path, 0o755);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (stat.isFile()) chmodSync(path, 0o666);
  };
  visit(dir);
}

/** TCP ports process `pid` listens on (from /proc: its socket inodes in the LISTEN rows of tcp and tcp6). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed while we looked.
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const columns = row.trim().split(/\s+/);
      if (columns.length < 10 || columns[3] !== '0A' || !inodes.has(columns[9]!)) continue;
      ports.add(parseInt(columns[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** What `nobody` gets when it lists the data folder, reads a database file and connects to the database socket. */
function tryAsNobody(dataDir: string): Record<string, string> {
  const script = `
    const fs = require('node:fs'); const net = require('node:net'); const path = require('node:path');
    const dir = process.argv[1]; const out = {};
    try { fs.readdirSync(dir); out.list = 'ok'; } catch (e) { out.list = e.code; }
    try { fs.readFileSync(path.join(dir, 'PG_VERSION')); out.read = 'ok'; } catch (e) { out.read = e.code; }
    const socket = net.createConnection({ path: path.join(dir, '.s.PGSQL.5432') });
    socket.on('connect', () => { out.connect = 'ok'; socket.destroy(); console.log(JSON.stringify(out)); });
    socket.on('error', (e) => { out.connect = e.code; console.log(JSON.stringify(out)); });
  `;
  const run = spawnSync(process.execPath, ['-e', script, dataDir], { uid: NOBODY, gid: NOBODY, cwd: '/', encoding: 'utf8', timeout: 20_000 });
  if (run.status !== 0) throw new Error(`the probe as nobody failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, string>;
}

describe('RELIABILITY 24: the embedded database and its data folder are private to the hub', () => {
  let scratch: string;
  let dataDir: string;
  let hub: HubProcess | undefined;

  const clusters = async (running: HubProcess) =>
    (await graphqlClient(running.graphqlUrl, running.adminToken).must<{ clusters: { name: string }[] }>(`{ clusters { name } }`)).clusters.map((c) => c.name);

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-e2e-local-'));
    dataDir = join(scratch, 'data');
    hub = await startHub({ dataDir });
    await graphqlClient(hub.graphqlUrl, hub.adminToken).must(`mutation { registerCluster(input: { name: "kept-1", labels: { region: "eu" } }) { bootstrapToken } }`);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the data folder is 0700, and nothing in it grants group or others anything', () => {
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dataDir)).toContain('PG_VERSION');
    expect(looseEntries(dataDir)).toEqual([]);
  });

  it('the database listens on a socket inside the data folder: the hub opens no TCP port but its API and agent link', () => {
    expect(lstatSync(join(dataDir, '.s.PGSQL.5432')).isSocket()).toBe(true);
    const api = Number(new URL(hub!.graphqlUrl).port);
    const agentLink = Number(hub!.grpcAddress.split(':').pop());
    expect(listeningPorts(hub!.child.pid!)).toEqual([api, agentLink].sort((a, b) => a - b));
  });

  it.skipIf(!canSwitchUser)('another local user can neither list nor read the data folder, nor connect to the database', () => {
    expect(tryAsNobody(dataDir)).toEqual({ list: 'EACCES', read: 'EACCES', connect: 'EACCES' });
  });

  it('a data folder of the earlier version (0755, files 0666) is tightened at start, and its data is kept', async () => {
    await hub!.stop();
    hub = undefined;
    loosenLikeTheEarlierVersion(dataDir);
    expect(looseEntries(dataDir).length).toBeGreaterThan(100);
    hub = await startHub({ dataDir });
    expect(await clusters(hub)).toEqual(['kept-1']);
    expect(looseEntries(dataDir)).toEqual([]);
    expect(hub.output.join('\n')).toMatch(/tightened the data folder .*: \d+ files to 0600 and \d+ folders to 0700/);
  });

  it('a hub killed with SIGKILL leaves a socket behind; the next start on the same folder removes it and keeps the data', async () => {
    await hub!.stop('SIGKILL');
    hub = undefined;
    expect(lstatSync(join(dataDir, '.s.PGSQL.5432')).isSocket()).toBe(true);
    hub = await startHub({ dataDir });
    expect(await clusters(hub)).toEqual(['kept-1']);
    expect(looseEntries(dataDir)).toEqual([]);
  });

  it('a second hub on a data folder in use exits with a clear error instead of opening it twice', async () => {
    const second = spawn(process.execPath, [HUB_MAIN], {
      env: { ...process.env, DATABASE_URL: '', PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_DATA_DIR: dataDir, FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    for (const stream of [second.stdout, second.stderr]) stream.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    expect(printed).toContain(`the embedded database in ${dataDir} is in use by another process`);
    expect(await clusters(hub!)).toEqual(['kept-1']);
  });
});
