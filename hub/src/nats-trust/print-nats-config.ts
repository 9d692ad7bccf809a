import { DataSource } from 'typeorm';
import { Clock } from '../clock';
import { ClustersService } from '../clusters/clusters.service';
import type { HubConfig } from '../config/hub-config';
import { dataSourceOptions } from '../database/data-source-options';
import { startEmbeddedDatabase } from '../database/embedded-database';
import { migrate } from '../database/migrate';
import { AgentCertificates } from '../trust/agent-certificates.service';
import { AgentLinkCa } from '../trust/agent-link-ca.service';
import { NatsTrust } from './nats-trust.service';

/**
 * `node hub/dist/main.js --print-nats-config`: the nats-server configuration for operator mode (the
 * hub's operator, system account and account JWTs), from the same database and keys the hub uses;
 * generates the keys on a first run. `--print-nats-enrollment-jwt` prints the shared enrollment
 * user's bearer JWT instead (what agents get as FLOTILLA_NATS_ENROLLMENT_JWT). With the embedded
 * database, run it while the hub is stopped.
 */
export async function printNatsConfig(config: HubConfig, what: 'server-config' | 'enrollment-jwt' = 'server-config'): Promise<string> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedDatabase(config.dataDir);
  const db = new DataSource(dataSourceOptions(config.databaseUrl ?? embedded!.url, embedded ? 1 : 2));
  try {
    await db.initialize();
    await migrate(db, { lock: !embedded });
    const clock = new Clock();
    const ca = new AgentLinkCa(db, config, clock);
    const trust = new NatsTrust(db, config, clock, new ClustersService(db, config, new AgentCertificates(db, config, ca)), ca);
    return what === 'server-config' ? await trust.serverConfig() : `${await trust.enrollmentJwt()}\n`;
  } finally {
    if (db.isInitialized) await db.destroy();
    await embedded?.stop();
  }
}
