import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway CA and a server certificate it signed, PEM. */
export interface TestPki {
  readonly caPem: string;
  readonly serverCertificatePem: string;
  readonly serverKeyPem: string;
  /** The CA's key, for tests that sign client certificates. */
  readonly caKeyPem: string;
}

/**
 * Makes a P-256 CA and a server certificate for `names` (subjectAltName syntax: `DNS:x`, `IP:y`) with
 * the openssl command line. The agent has no certificate library of its own (the hub issues its
 * certificates), so its tests borrow openssl's.
 */
export function makeTestPki(names: readonly string[] = ['DNS:localhost', 'IP:127.0.0.1']): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-pki-'));
  const openssl = (...args: string[]): void => {
    const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`);
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=agent test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=fake hub');
    writeFileSync(join(dir, 'server.ext'), `subjectAltName=${names.join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return { caPem: read('ca.crt'), serverCertificatePem: read('server.crt'), serverKeyPem: read('server.key'), caKeyPem: read('ca.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What openssl read from a certificate request. */
export interface ReadRequest {
  /** `openssl req -verify` accepted its signature. */
  readonly verified: boolean;
  readonly subject: string;
  /** Its public key, PEM (SPKI). */
  readonly publicKeyPem: string;
}

/** Reads a DER PKCS#10 request with openssl (an independent check of the agent's hand-built encoding). */
export function readRequest(csrDer: Uint8Array): ReadRequest {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-csr-'));
  try {
    writeFileSync(join(dir, 'csr.der'), csrDer);
    const run = spawnSync('openssl', ['req', '-inform', 'DER', '-in', 'csr.der', '-verify', '-noout', '-subject', '-pubkey'], { cwd: dir, encoding: 'utf8' });
    const subject = /subject=\s*(.*)/.exec(run.stdout)?.[1]?.trim() ?? '';
    const publicKeyPem = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----\n?/.exec(run.stdout)?.[0] ?? '';
    return { verified: run.status === 0 && /verify OK/i.test(run.stdout + run.stderr), subject, publicKeyPem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signs a client certificate (clientAuth, `days` days) for the key of a DER request with the test CA, as a hub would. */
export function signClientCertificate(pki: TestPki, csrDer: Uint8Array, commonName: string, days = 2): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-client-'));
  const openssl = (...args: string[]): void => {
    const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`);
  };
  try {
    writeFileSync(join(dir, 'csr.der'), csrDer);
    writeFileSync(join(dir, 'ca.crt'), pki.caPem);
    writeFileSync(join(dir, 'ca.key'), pki.caKeyPem);
    writeFileSync(join(dir, 'client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    openssl('req', '-inform', 'DER', '-in', 'csr.der', '-out', 'csr.pem');
    openssl('x509', '-req', '-in', 'csr.pem', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', String(days), '-extfile', 'client.ext', '-subj', `/CN=${commonName}`);
    return readFileSync(join(dir, 'client.crt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
