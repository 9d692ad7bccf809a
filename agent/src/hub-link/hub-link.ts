import type { AckContent, HeldAppRef, IncomingDesiredApp, IncomingRemoveApp } from '../core/desired-state.js';
import type { ReportContent } from '../core/health/index.js';

/**
 * The hub link port: a transport (gRPC today, NATS later) that keeps the agent connected to the hub,
 * hands received desired state to a {@link HubLinkHandler} and carries its acks and reports back.
 * A link reconnects by itself until stopped; it never exits on hub errors.
 */
export interface HubLink {
  /** Starts connecting in the background. Calling it twice does nothing. */
  start(): void;
  /** Ends the stream, cancels every timer, and resolves once nothing runs any more. Idempotent. */
  stop(): Promise<void>;
  /** True between the hub's Welcome and the end of that stream. */
  isConnected(): boolean;
}

/**
 * What a hub link needs from the rest of the agent. Transport-neutral: acks, reports and inventory are
 * plain content that each transport encodes its own way.
 */
export interface HubLinkHandler {
  /** The Apps held now (for Hello and periodic anti-entropy), sorted by App name. */
  inventory(): readonly HeldAppRef[];
  /**
   * Decides about one DesiredApp, makes an accepted one durable, calls `sendAck` (unless the message
   * is stale and ignored), then schedules the apply. Resolves after `sendAck`; never rejects.
   */
  handleDesiredApp(message: IncomingDesiredApp, sendAck: (ack: AckContent) => void): Promise<void>;
  /** Same as {@link handleDesiredApp} for a removal. */
  handleRemoveApp(message: IncomingRemoveApp, sendAck: (ack: AckContent) => void): Promise<void>;
  /** The latest report of every held App the driver has judged, for the catch-up after a (re)connect. */
  currentReports(): readonly ReportContent[];
  /** Registers a listener for each change of an App's judged state; returns the unregister function. */
  onReport(listener: (report: ReportContent) => void): () => void;
}
