import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ConnectResponseSchema,
  LIMITS,
  PROTOCOL_VERSION,
  create,
  truncateText,
  type Ack,
  type ConnectResponse,
  type Hello,
  type Inventory,
  type Refusal,
  type Report,
} from '@flotilla/proto';
import { ClusterCapabilitiesService, CapabilityRestagingService } from '../clusters/cluster-capabilities.service';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { planResync, type HeldApp, type IgnoredApp } from '../core/agent-sync/plan-resync';
import { ReportsService, type AckOutcome } from '../reports/reports.service';
import { DesiredStateService, removalOfUnknown } from './desired-state.service';

/** What brings an agent level with the hub, before a transport delivers it. */
export interface ResyncWork {
  /** Current DesiredApp or RemoveApp of every released App that differs from what the agent holds. */
  readonly messages: ConnectResponse[];
  /** RemoveApps of Apps the agent holds that the hub releases nothing of there (a transport may not carry every name). */
  readonly unknown: readonly { readonly appName: string; readonly message: ConnectResponse }[];
  /** Held Apps left unanswered, and why (for the log). */
  readonly ignored: readonly IgnoredApp[];
  /** Released removals the agent no longer holds: their records can be forgotten. */
  readonly forget: readonly string[];
}

/**
 * What the hub does with the messages of an authenticated agent, whatever the transport: checks Hello,
 * builds Welcome, records Acks and Reports, and plans the resync from an Inventory. The gRPC stream and
 * the NATS reports consumer both call this, so that the two transports cannot drift apart.
 */
@Injectable()
export class AgentMessages {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly reports: ReportsService,
    private readonly desired: DesiredStateService,
    private readonly capabilities: ClusterCapabilitiesService,
    private readonly restaging: CapabilityRestagingService,
  ) {}

  private readonly log = new Logger('AgentLink');

  /**
   * Records the capabilities a Hello reports (checked and capped; see ClusterCapabilitiesService) and, when
   * they changed, re-stages the AppSets in the background. Handled for that cluster alone: a refused
   * report is logged and shown on the cluster, and the agent is served as usual.
   */
  async recordCapabilities(clusterId: string, clusterName: string, hello: Hello, now: Date): Promise<void> {
    const outcome = await this.capabilities.record(clusterId, hello.capabilities, now);
    if (outcome.problem) this.log.warn(`capabilities of ${clusterName} left as they were: ${outcome.problem}`);
    if (outcome.changed) {
      this.log.log(`capabilities of ${clusterName} changed (${hello.capabilities?.kubernetesVersion ?? ''}): re-staging`);
      this.restaging.request();
    }
  }

  /** Why a Hello cannot be served (another protocol version), or undefined when it can. */
  helloRefusal(hello: Hello): Omit<Refusal, '$typeName'> | undefined {
    if (hello.protocolVersion === PROTOCOL_VERSION) return undefined;
    return {
      code: 'PROTOCOL_VERSION',
      message: `The hub speaks protocol ${PROTOCOL_VERSION}; the agent sent ${hello.protocolVersion}.`,
      retryable: false,
    };
  }

  /** Welcome; after an enrollment it carries the bearer credential or the client certificate (and its CA bundle). */
  /**
   * Welcome for an authenticated stream: the credential or certificate it enrolled (if it did), and
   * over TLS the CA bundle the agent must trust and whether its certificate must be renewed now.
   */
  welcome(clusterName: string, agentCredential = '', certificate?: { readonly certificatePem: string }, trust?: { readonly caBundlePem: string; readonly renewCertificate: boolean }): ConnectResponse {
    return create(ConnectResponseSchema, {
      message: {
        case: 'welcome',
        value: {
          protocolVersion: PROTOCOL_VERSION,
          clusterName,
          agentCredential,
          clientCertificatePem: certificate?.certificatePem ?? '',
          caBundlePem: trust?.caBundlePem ?? '',
          renewCertificate: trust?.renewCertificate ?? false,
          heartbeatIntervalSeconds: this.config.heartbeatIntervalSeconds,
          inventoryIntervalSeconds: this.config.inventoryIntervalSeconds,
        },
      },
    });
  }

  trustUpdate(caBundlePem: string, renewCertificate: boolean): ConnectResponse {
    return create(ConnectResponseSchema, { message: { case: 'trustUpdate', value: { caBundlePem, renewCertificate } } });
  }

  certificateRenewed(certificate: { readonly certificatePem: string; readonly caBundlePem: string }): ConnectResponse {
    return create(ConnectResponseSchema, { message: { case: 'certificateRenewed', value: { clientCertificatePem: certificate.certificatePem, caBundlePem: certificate.caBundlePem } } });
  }

  refusal(code: string, message: string, retryable: boolean): ConnectResponse {
    return create(ConnectResponseSchema, { message: { case: 'refusal', value: { code, message: truncateText(message), retryable } } });
  }

  recordAck(clusterId: string, ack: Ack): Promise<AckOutcome> {
    return this.reports.recordAck(clusterId, ack);
  }

  recordReport(clusterId: string, report: Report): Promise<void> {
    return this.reports.recordReport(clusterId, report);
  }

  /**
   * Compares what the agent holds with what was released to its cluster (only what differs is sent).
   * Every generation comes from the hub's records; nothing the agent lists moves a counter.
   */
  async resync(clusterId: string, inventory: Inventory | undefined): Promise<ResyncWork> {
    const held: HeldApp[] = (inventory?.apps ?? [])
      .slice(0, LIMITS.maxInventoryApps)
      .map((a) => ({ appName: a.appName, revision: a.revision, generation: a.generation }));
    // Read before the released Apps: a release the read below misses takes a generation above this
    // one, so the agent takes that release over a removal planned below it.
    const highestIssued = await this.desired.highestIssuedGeneration();
    const plan = planResync(await this.desired.released(clusterId), held, highestIssued);
    const messages = await this.desired.messages(clusterId, plan.send);
    for (const removal of plan.remove) messages.push(await this.desired.removal(clusterId, removal.appName, removal.generation));
    const unknown = plan.removeUnknown.map((r) => ({ appName: r.appName, message: removalOfUnknown(r.appName, r.generation) }));
    return { messages, unknown, ignored: plan.ignored, forget: plan.forget };
  }

  forgetRemoved(clusterId: string, appNames: readonly string[]): Promise<void> {
    return appNames.length === 0 ? Promise.resolve() : this.desired.forgetRemoved(clusterId, appNames);
  }
}
