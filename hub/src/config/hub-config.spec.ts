import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';

describe('loadHubConfig', () => {
  it('with no environment the hub listens on 4000, uses the embedded database and runs no demo', () => {
    const config = loadHubConfig({});
    expect(config).toMatchObject({ port: 4000, grpcPort: 4001, databaseUrl: undefined, demo: false, dataDir: '.flotilla/hub-data' });
  });

  it.each([
    { name: '--demo turns the demo fleet on', env: {}, argv: ['--demo'], demo: true },
    { name: 'FLOTILLA_DEMO=false turns it off even with --demo', env: { FLOTILLA_DEMO: 'false' }, argv: ['--demo'], demo: false },
    { name: '--no-demo turns it off', env: { FLOTILLA_DEMO: 'true' }, argv: ['--no-demo'], demo: false },
  ])('$name', ({ env, argv, demo }) => {
    expect(loadHubConfig(env, argv).demo).toBe(demo);
  });

  it.each([
    { name: 'a port that is not a number is refused', env: { PORT: 'http' }, problem: 'PORT must be an integer' },
    { name: 'a database URL of another scheme is refused', env: { DATABASE_URL: 'mysql://x' }, problem: 'DATABASE_URL must be a postgres' },
    { name: 'an unknown log level is refused', env: { FLOTILLA_LOG_LEVEL: 'loud' }, problem: 'FLOTILLA_LOG_LEVEL' },
  ])('$name', ({ env, problem }) => {
    expect(() => loadHubConfig(env)).toThrow(HubConfigError);
    expect(() => loadHubConfig(env)).toThrow(problem);
  });

  describe('client-certificate lifetime', () => {
    it.each([
      { name: 'is 30 days by default', env: {}, seconds: 30 * 86_400 },
      { name: 'is read in days from FLOTILLA_AGENT_CERT_TTL_DAYS', env: { FLOTILLA_AGENT_CERT_TTL_DAYS: '7' }, seconds: 7 * 86_400 },
      { name: 'is read in seconds from FLOTILLA_AGENT_CERT_TTL_SECONDS (a test or trial lifetime)', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: '60' }, seconds: 60 },
      { name: 'goes up to 365 days in seconds', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: String(365 * 86_400) }, seconds: 365 * 86_400 },
      { name: 'ignores an empty FLOTILLA_AGENT_CERT_TTL_SECONDS next to the days', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: '', FLOTILLA_AGENT_CERT_TTL_DAYS: '2' }, seconds: 2 * 86_400 },
    ])('$name', ({ env, seconds }) => {
      expect(loadHubConfig(env).agentCertTtlSeconds).toBe(seconds);
    });

    it.each([
      { name: 'under 60 seconds is refused', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: '59' }, problem: 'FLOTILLA_AGENT_CERT_TTL_SECONDS must be an integer from 60 to 31536000 (got "59")' },
      { name: 'over 365 days in seconds is refused', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: String(365 * 86_400 + 1) }, problem: 'FLOTILLA_AGENT_CERT_TTL_SECONDS must be an integer from 60 to 31536000' },
      { name: 'a fractional number of seconds is refused', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: '90.5' }, problem: 'FLOTILLA_AGENT_CERT_TTL_SECONDS must be an integer' },
      { name: 'a lifetime with a unit is refused', env: { FLOTILLA_AGENT_CERT_TTL_SECONDS: '90s' }, problem: 'FLOTILLA_AGENT_CERT_TTL_SECONDS must be an integer' },
      { name: 'zero days are refused', env: { FLOTILLA_AGENT_CERT_TTL_DAYS: '0' }, problem: 'FLOTILLA_AGENT_CERT_TTL_DAYS must be an integer from 1 to 365' },
      {
        name: 'days and seconds together are refused',
        env: { FLOTILLA_AGENT_CERT_TTL_DAYS: '1', FLOTILLA_AGENT_CERT_TTL_SECONDS: '60' },
        problem: 'FLOTILLA_AGENT_CERT_TTL_DAYS and FLOTILLA_AGENT_CERT_TTL_SECONDS are exclusive: set one',
      },
    ])('$name', ({ env, problem }) => {
      expect(() => loadHubConfig(env)).toThrow(HubConfigError);
      expect(() => loadHubConfig(env)).toThrow(problem);
    });
  });

  it('a bad DATABASE_URL is reported without echoing it (it may hold a password)', () => {
    try {
      loadHubConfig({ DATABASE_URL: 'mysql://root:hunter2@db' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });

  describe('NATS agent link', () => {
    it('is off unless FLOTILLA_NATS_URL is set', () => {
      expect(loadHubConfig({}).nats).toBeUndefined();
    });

    it('reads a comma list of servers with the default bucket and stream and no credentials', () => {
      expect(loadHubConfig({ FLOTILLA_NATS_URL: 'nats://n1:4222, tls://n2:4222,n3' }).nats).toEqual({
        servers: ['nats://n1:4222', 'tls://n2:4222', 'n3'],
        auth: { kind: 'none' },
        kvBucket: 'flotilla-desired',
        reportsStream: 'FLOTILLA_REPORTS',
        caFile: undefined,
      });
    });

    it.each([
      { name: 'a user and a password', env: { FLOTILLA_NATS_USER: 'hub', FLOTILLA_NATS_PASSWORD: 's3cret' }, auth: { kind: 'password', user: 'hub', password: 's3cret' } },
      { name: 'a creds file', env: { FLOTILLA_NATS_CREDS: '/etc/flotilla/hub.creds' }, auth: { kind: 'creds', file: '/etc/flotilla/hub.creds' } },
      { name: 'its own operator (default 30-day user JWTs, like certificates)', env: { FLOTILLA_NATS_OPERATOR: 'true' }, auth: { kind: 'operator', userJwtTtlSeconds: 30 * 86_400, seedFiles: undefined } },
      {
        name: 'an operator from seed files with 1-hour user JWTs',
        env: { FLOTILLA_NATS_OPERATOR: 'on', FLOTILLA_NATS_USER_JWT_TTL_SECONDS: '3600', FLOTILLA_NATS_OPERATOR_SEED_FILE: '/s/o', FLOTILLA_NATS_SYSTEM_ACCOUNT_SEED_FILE: '/s/sys', FLOTILLA_NATS_ACCOUNT_SEED_FILE: '/s/a' },
        auth: { kind: 'operator', userJwtTtlSeconds: 3600, seedFiles: { operator: '/s/o', systemAccount: '/s/sys', account: '/s/a' } },
      },
    ])('authenticates with $name', ({ env, auth }) => {
      expect(loadHubConfig({ FLOTILLA_NATS_URL: 'nats://n1:4222', ...env }).nats?.auth).toEqual(auth);
    });

    it('takes the CA of tls:// servers from FLOTILLA_NATS_CA_FILE', () => {
      expect(loadHubConfig({ FLOTILLA_NATS_URL: 'tls://n1:4222', FLOTILLA_NATS_CA_FILE: '/etc/nats/ca.pem' }).nats?.caFile).toBe('/etc/nats/ca.pem');
    });

    it('takes the bucket and stream names from the environment', () => {
      const nats = loadHubConfig({ FLOTILLA_NATS_URL: 'n1:4222', FLOTILLA_NATS_KV_BUCKET: 'desired-eu', FLOTILLA_NATS_REPORTS_STREAM: 'REPORTS_EU' }).nats;
      expect(nats).toMatchObject({ kvBucket: 'desired-eu', reportsStream: 'REPORTS_EU' });
    });

    it.each([
      { name: 'a URL of another scheme is refused', env: { FLOTILLA_NATS_URL: 'http://n1:4222' }, problem: 'FLOTILLA_NATS_URL entry 1 must be' },
      { name: 'a URL with a path is refused', env: { FLOTILLA_NATS_URL: 'nats://n1:4222/x' }, problem: 'FLOTILLA_NATS_URL entry 1 must be' },
      { name: 'an empty server list is refused', env: { FLOTILLA_NATS_URL: ' , ' }, problem: 'at least one server' },
      { name: 'a user without a password is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_USER: 'hub' }, problem: 'must be set together' },
      { name: 'a creds file with a password is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_CREDS: '/c', FLOTILLA_NATS_USER: 'hub', FLOTILLA_NATS_PASSWORD: 'x' }, problem: 'exclusive' },
      { name: 'credentials without a URL are refused', env: { FLOTILLA_NATS_USER: 'hub', FLOTILLA_NATS_PASSWORD: 'x' }, problem: 'need FLOTILLA_NATS_URL' },
      { name: 'a bucket name with a dot is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_KV_BUCKET: 'a.b' }, problem: 'FLOTILLA_NATS_KV_BUCKET' },
      { name: 'a stream name with a wildcard is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_REPORTS_STREAM: 'R*' }, problem: 'FLOTILLA_NATS_REPORTS_STREAM' },
      { name: 'operator mode with a password is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_OPERATOR: 'true', FLOTILLA_NATS_USER: 'hub', FLOTILLA_NATS_PASSWORD: 'x' }, problem: 'sign its own NATS user' },
      { name: 'a user JWT lifetime under 5 seconds is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_OPERATOR: 'true', FLOTILLA_NATS_USER_JWT_TTL_SECONDS: '1' }, problem: 'FLOTILLA_NATS_USER_JWT_TTL_SECONDS' },
      { name: 'one seed file without the others is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_OPERATOR: 'true', FLOTILLA_NATS_OPERATOR_SEED_FILE: '/s/o' }, problem: 'must be set together' },
      { name: 'a lifetime without operator mode is refused', env: { FLOTILLA_NATS_URL: 'n1', FLOTILLA_NATS_USER_JWT_TTL_SECONDS: '60' }, problem: 'need FLOTILLA_NATS_OPERATOR=true' },
      { name: 'a NATS CA file without a URL is refused', env: { FLOTILLA_NATS_CA_FILE: '/ca.pem' }, problem: 'need FLOTILLA_NATS_URL' },
      { name: 'the replica id reserved for NATS presence is refused', env: { FLOTILLA_REPLICA_ID: 'nats' }, problem: 'FLOTILLA_REPLICA_ID' },
    ])('$name', ({ env, problem }) => {
      expect(() => loadHubConfig(env)).toThrow(problem);
    });

    it('refuses credentials inside a server URL without echoing them', () => {
      try {
        loadHubConfig({ FLOTILLA_NATS_URL: 'nats://hub:hunter2@n1:4222' });
        expect.unreachable();
      } catch (error) {
        expect(String(error)).toContain('holds credentials');
        expect(String(error)).not.toContain('hunter2');
      }
    });

    it('never echoes the password, even next to other problems', () => {
      try {
        loadHubConfig({ FLOTILLA_NATS_URL: 'http://x', FLOTILLA_NATS_PASSWORD: 'hunter2' });
        expect.unreachable();
      } catch (error) {
        expect(String(error)).not.toContain('hunter2');
      }
    });
  });
});

describe('loadHubConfig: authentication', () => {
  const token = `flt_api_${'a'.repeat(43)}`;
  const oidc = { FLOTILLA_OIDC_ISSUER: 'https://idp.example.com', FLOTILLA_OIDC_AUDIENCE: 'flotilla', FLOTILLA_OIDC_ROLE_BINDINGS: '[{"group":"ops","role":"ADMIN"},{"group":"dev","role":"OPERATOR","project":"team-a"}]' };

  it('without OIDC variables only API tokens are accepted', () => {
    expect(loadHubConfig({}).auth).toEqual({ bootstrapAdminToken: undefined, oidc: undefined });
  });

  it('a preset admin token and an OIDC issuer are read with their defaults', () => {
    const config = loadHubConfig({ FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: token, ...oidc });
    expect(config.auth.bootstrapAdminToken).toBe(token);
    expect(config.auth.oidc).toMatchObject({
      issuer: 'https://idp.example.com',
      audience: 'flotilla',
      jwksUrl: undefined,
      groupsClaim: 'groups',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      bindings: [{ group: 'ops', role: 'ADMIN' }, { group: 'dev', role: 'OPERATOR', project: 'team-a' }],
    });
  });

  it.each([
    { name: 'a preset admin token of the wrong shape is refused without echoing it', env: { FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: 'hunter2-secret' }, problem: 'FLOTILLA_BOOTSTRAP_ADMIN_TOKEN must be' },
    { name: 'OIDC settings without an issuer are refused', env: { FLOTILLA_OIDC_AUDIENCE: 'x' }, problem: 'need FLOTILLA_OIDC_ISSUER' },
    { name: 'an issuer without an audience is refused', env: { ...oidc, FLOTILLA_OIDC_AUDIENCE: '' }, problem: 'FLOTILLA_OIDC_AUDIENCE is required' },
    { name: 'HMAC algorithms are refused', env: { ...oidc, FLOTILLA_OIDC_ALGORITHMS: 'RS256,HS256' }, problem: 'refused: HS256' },
    { name: "'none' is refused", env: { ...oidc, FLOTILLA_OIDC_ALGORITHMS: 'none' }, problem: 'refused: none' },
    { name: 'role bindings that are not JSON are refused', env: { ...oidc, FLOTILLA_OIDC_ROLE_BINDINGS: 'ops=admin' }, problem: 'must be a JSON array' },
    { name: 'an OPERATOR binding without a project is refused', env: { ...oidc, FLOTILLA_OIDC_ROLE_BINDINGS: '[{"group":"dev","role":"OPERATOR"}]' }, problem: 'project must name a project' },
    { name: 'an ADMIN binding with a project is refused', env: { ...oidc, FLOTILLA_OIDC_ROLE_BINDINGS: '[{"group":"ops","role":"ADMIN","project":"a"}]' }, problem: 'takes no project' },
    { name: 'an issuer URL with credentials is refused', env: { ...oidc, FLOTILLA_OIDC_ISSUER: 'https://u:hunter2@idp' }, problem: 'FLOTILLA_OIDC_ISSUER must be an http(s) URL' },
  ])('$name', ({ env, problem }) => {
    expect(() => loadHubConfig(env)).toThrow(problem);
    try {
      loadHubConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  describe('agent-link TLS', () => {
    const KEY = Buffer.alloc(32, 1).toString('base64');

    it('is on by default, with no extra names, no preset key and the hub\'s own CA', () => {
      expect(loadHubConfig({}).agentLinkTls).toEqual({ insecure: false, extraNames: [], caEncryptionKey: undefined, caFiles: undefined });
    });

    it.each([
      { name: 'FLOTILLA_GRPC_INSECURE=true serves plaintext', env: { FLOTILLA_GRPC_INSECURE: 'true' }, want: { insecure: true } },
      {
        name: 'FLOTILLA_GRPC_TLS_SANS lists DNS names and IPs',
        env: { FLOTILLA_GRPC_TLS_SANS: 'hub.example.com, 10.0.0.7,*.hub.example.com' },
        want: { extraNames: [{ kind: 'dns', value: 'hub.example.com' }, { kind: 'ip', value: '10.0.0.7' }, { kind: 'dns', value: '*.hub.example.com' }] },
      },
      { name: 'FLOTILLA_CA_ENCRYPTION_KEY is decoded from base64', env: { FLOTILLA_CA_ENCRYPTION_KEY: KEY }, want: { caEncryptionKey: Buffer.alloc(32, 1) } },
      { name: 'FLOTILLA_CA_ENCRYPTION_KEY may be base64url', env: { FLOTILLA_CA_ENCRYPTION_KEY: Buffer.alloc(32, 0xfb).toString('base64url') }, want: { caEncryptionKey: Buffer.alloc(32, 0xfb) } },
      {
        name: 'FLOTILLA_CA_CERT_FILE and FLOTILLA_CA_KEY_FILE name an operator-supplied CA',
        env: { FLOTILLA_CA_CERT_FILE: '/etc/flotilla/ca/tls.crt', FLOTILLA_CA_KEY_FILE: '/etc/flotilla/ca/tls.key' },
        want: { caFiles: { certFile: '/etc/flotilla/ca/tls.crt', keyFile: '/etc/flotilla/ca/tls.key' } },
      },
    ])('$name', ({ env, want }) => {
      expect(loadHubConfig(env).agentLinkTls).toMatchObject(want);
    });

    it.each([
      { name: 'a key that is not 32 bytes is refused', env: { FLOTILLA_CA_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, problem: 'FLOTILLA_CA_ENCRYPTION_KEY must be 32 bytes' },
      { name: 'a key that is not base64 is refused', env: { FLOTILLA_CA_ENCRYPTION_KEY: 'not base64 at all!' }, problem: 'FLOTILLA_CA_ENCRYPTION_KEY must be 32 bytes' },
      { name: 'a CA certificate without its key is refused', env: { FLOTILLA_CA_CERT_FILE: '/ca.crt' }, problem: 'must be set together' },
      { name: 'a CA key without its certificate is refused', env: { FLOTILLA_CA_KEY_FILE: '/ca.key' }, problem: 'must be set together' },
      { name: 'a name with a port is refused', env: { FLOTILLA_GRPC_TLS_SANS: 'hub.example.com:4001' }, problem: 'FLOTILLA_GRPC_TLS_SANS' },
      { name: 'FLOTILLA_GRPC_INSECURE must be a boolean', env: { FLOTILLA_GRPC_INSECURE: 'sometimes' }, problem: 'FLOTILLA_GRPC_INSECURE' },
    ])('$name', ({ env, problem }) => {
      expect(() => loadHubConfig(env)).toThrow(problem);
    });

    it('never echoes a refused encryption key', () => {
      const secret = 'c2VjcmV0LWtleS10aGF0LWlzLXRvby1zaG9ydA==';
      expect(() => loadHubConfig({ FLOTILLA_CA_ENCRYPTION_KEY: secret })).toThrow(HubConfigError);
      try {
        loadHubConfig({ FLOTILLA_CA_ENCRYPTION_KEY: secret });
      } catch (error) {
        expect(String(error)).not.toContain(secret);
      }
    });
  });
});
