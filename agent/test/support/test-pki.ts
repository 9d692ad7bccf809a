import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway CA and a server certificate it signed, PEM. */
export interface TestPki {
  readonly caPem: string;
  readonly serverCertificatePem: string;
  readonly serverKeyPem: string;
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
    return { caPem: read('ca.crt'), serverCertificatePem: read('server.crt'), serverKeyPem: read('server.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
