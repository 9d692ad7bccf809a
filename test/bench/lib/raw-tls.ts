/**
 * TLS for the raw gRPC baselines. The product's agent link is always TLS, so the floor pays for the
 * same handshakes and record encryption: one throwaway ECDSA P-256 CA and a server certificate for
 * 127.0.0.1 (the hub's kind of key), made with openssl once per benchmark child, as files that the raw
 * servers (child processes of their own) read from the folder they are given.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { onCleanup } from './cleanup.js';

let made: string | undefined;

/** The folder holding ca.crt, server.crt and server.key; made on first use, removed at cleanup. */
export function rawTlsDir(): string {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-tls-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]): void => {
    const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bench raw CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=bench raw server');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  made = dir;
  return dir;
}

/** What a raw server in `dir` serves: the server certificate, no client certificate asked (as the hub). */
export function rawServerCredentials(dir: string): grpc.ServerCredentials {
  const read = (file: string) => readFileSync(join(dir, file));
  return grpc.ServerCredentials.createSsl(read('ca.crt'), [{ cert_chain: read('server.crt'), private_key: read('server.key') }], false);
}

/** What a raw client dials with: TLS verifying the raw server against the CA of this process's {@link rawTlsDir}. */
export function rawChannelCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readFileSync(join(rawTlsDir(), 'ca.crt')));
}
