import { connect } from 'node:tls';

/** What a fresh TLS handshake with an agent-link address shows: whether a client trusting `trustPem` completes it, and the issuer of the served certificate. */
export interface TlsHandshake {
  readonly verified: boolean;
  /** The issuer of the certificate the server presented (also when it was not verified). */
  readonly issuer: string | undefined;
}

/** Opens a TLS connection to `address` (host:port) trusting only `trustPem`, as an agent's channel would (ALPN h2, name `localhost`). */
export function tlsHandshake(address: string, trustPem: string, timeoutMs = 5000): Promise<TlsHandshake> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca: trustPem, servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      const issuer = socket.getPeerX509Certificate()?.issuer;
      const verified = socket.authorized;
      socket.destroy();
      resolve({ verified, issuer });
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no TLS handshake with ${address} within ${timeoutMs} ms`));
    });
    socket.on('error', reject);
  });
}
