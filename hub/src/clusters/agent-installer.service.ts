import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { NatsTrust } from '../nats-trust/nats-trust.service';
import { AgentLinkCa } from '../trust/agent-link-ca.service';
import { agentInstallCommand, hasTlsServer, type AgentLink } from './install-command';

/** What registerCluster and issueBootstrapToken hand out with a bootstrap token to install the agent. */
export interface AgentInstall {
  readonly agentInstallCommand: string;
  readonly caBundle: string;
  readonly natsEnrollmentJwt: string | null;
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * Assembles the agent's install material for a fresh bootstrap token: the hub's CA bundle, the NATS
 * enrollment JWT when the hub is the NATS operator (then the install command puts the agent on
 * NATS, at FLOTILLA_AGENT_NATS_URL or else the hub's own servers, with the NATS CA for `tls://`
 * servers), and the helm command with all of it.
 */
@Injectable()
export class AgentInstaller implements OnModuleInit {
  private readonly log = new Logger('AgentInstaller');
  /** The NATS CA as read at boot: the fallback when a later read fails (a Secret being remounted). */
  private natsCaAtBoot: string | undefined;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly ca: AgentLinkCa,
    private readonly natsTrust: NatsTrust,
  ) {}

  /**
   * Reads the NATS CA the install command would carry once at boot, so that a missing or non-PEM file
   * stops the hub with a clear message instead of every registerCluster handing out a broken command.
   */
  async onModuleInit(): Promise<void> {
    const file = this.natsCaFile();
    if (file === undefined) return;
    this.natsCaAtBoot = await this.readNatsCa(file);
  }

  async forToken(cluster: { name: string }, bootstrapToken: string): Promise<AgentInstall> {
    const caBundle = await this.ca.bundle();
    // Signed after the token was issued, so that it expires no earlier than the token.
    const natsEnrollmentJwt = this.natsTrust.operatorAuth ? await this.natsTrust.enrollmentJwt() : null;
    return { agentInstallCommand: agentInstallCommand(cluster, await this.link(caBundle, natsEnrollmentJwt), bootstrapToken), caBundle, natsEnrollmentJwt };
  }

  private async link(caBundle: string, natsEnrollmentJwt: string | null): Promise<AgentLink> {
    if (natsEnrollmentJwt !== null && this.config.nats) {
      const servers = this.agentNatsServers();
      return { kind: 'nats', servers, enrollmentJwt: natsEnrollmentJwt, caBundle: await this.currentNatsCa() };
    }
    const hubAddress = this.config.agentAddress ?? `${this.config.grpcHost}:${this.config.grpcPort}`;
    return { kind: 'grpc', hubAddress, trust: this.config.agentLinkTls.insecure ? { kind: 'insecure' } : { kind: 'tls', caBundle } };
  }

  private agentNatsServers(): readonly string[] {
    return this.config.agentNats.servers ?? this.config.nats?.servers ?? [];
  }

  /** The CA file whose PEM goes into the install command: only with the hub as NATS operator and a `tls://` agent server. */
  private natsCaFile(): string | undefined {
    if (!this.natsTrust.operatorAuth || !this.config.nats || !hasTlsServer(this.agentNatsServers())) return undefined;
    return this.config.agentNats.caFile ?? this.config.nats.caFile;
  }

  /** Read at every install command, so that a rotated CA (a remounted Secret) is handed out; the boot-time copy if that read fails. */
  private async currentNatsCa(): Promise<string | undefined> {
    const file = this.natsCaFile();
    if (file === undefined) return undefined;
    try {
      return await this.readNatsCa(file);
    } catch (error) {
      this.log.warn(`${error instanceof Error ? error.message : String(error)}; the install command carries the CA read at start`);
      return this.natsCaAtBoot;
    }
  }

  private async readNatsCa(file: string): Promise<string> {
    const variable = this.config.agentNats.caFile !== undefined ? 'FLOTILLA_AGENT_NATS_CA_FILE' : 'FLOTILLA_NATS_CA_FILE';
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`${variable} (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (!pem.includes(PEM_CERTIFICATE)) throw new Error(`${variable} (${file}) holds no PEM certificate (${PEM_CERTIFICATE}...)`);
    return pem;
  }
}
