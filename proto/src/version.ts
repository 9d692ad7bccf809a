/**
 * The protocol version of `flotilla.agent.v1` spoken by this build. Sent in Hello and Welcome.
 * A peer with a different major protocol version is refused with a clear Refusal, never half-served.
 */
export const PROTOCOL_VERSION = 1;
