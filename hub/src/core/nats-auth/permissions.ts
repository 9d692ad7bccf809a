/**
 * Subject permissions of the NATS identities the hub mints (decentralized auth). Pure: the service
 * signs these claims; nothing here talks to NATS. Cluster names are DNS-1123 labels and bucket names
 * are checked at boot, so both are always one subject token.
 */

/** Publish and subscribe allow-lists; everything not listed is denied. */
export interface SubjectPermissions {
  readonly pub: { readonly allow: readonly string[] };
  readonly sub: { readonly allow: readonly string[] };
}

/** Agents ask for their first user JWT here, one token per cluster: `flotilla.enroll.<cluster>`. */
export const ENROLL_SUBJECT_PREFIX = 'flotilla.enroll';
/** Agents renew their user JWT here, authenticated by it: `flotilla.renew.<cluster>`. */
export const RENEW_SUBJECT_PREFIX = 'flotilla.renew';
/** Inbox prefix of the shared enrollment user (it may receive replies only there). */
export const ENROLL_INBOX_PREFIX = '_INBOX_enroll';

/** The inbox prefix a cluster's agent connects with; only its user may subscribe below it. */
export function clusterInboxPrefix(cluster: string): string {
  return `_INBOX_${cluster}`;
}

/**
 * What one cluster's agent may do: exactly the permissions of the hand-written users in
 * docs/nats/flotilla.conf (its reports subject, a watch consumer filtered to its own keys, flow
 * control, its own inbox), plus the request that renews its own identity.
 */
export function clusterUserPermissions(cluster: string, kvBucket: string): SubjectPermissions {
  return {
    pub: {
      allow: [
        `reports.${cluster}`,
        `$JS.API.CONSUMER.CREATE.KV_${kvBucket}.*.$KV.${kvBucket}.${cluster}.>`,
        `$JS.FC.KV_${kvBucket}.>`,
        `${RENEW_SUBJECT_PREFIX}.${cluster}`,
      ],
    },
    sub: { allow: [`${clusterInboxPrefix(cluster)}.>`] },
  };
}

/**
 * The hub's own user: the hand-written hub user's permissions, plus receiving enrollment and renewal
 * requests (it answers them through the response permission, not a publish grant on agent inboxes).
 */
export function hubUserPermissions(kvBucket: string): SubjectPermissions {
  return {
    pub: { allow: ['$JS.API.>', `$KV.${kvBucket}.>`, '$JS.ACK.>', '$JS.FC.>'] },
    sub: { allow: ['_INBOX.>', `${ENROLL_SUBJECT_PREFIX}.*`, `${RENEW_SUBJECT_PREFIX}.*`] },
  };
}

/**
 * The shared enrollment user: may only ask for a cluster identity and receive the answer. Holding it
 * grants nothing else; the one-time bootstrap token in the request is what the hub checks.
 */
export function enrollmentUserPermissions(): SubjectPermissions {
  return {
    pub: { allow: [`${ENROLL_SUBJECT_PREFIX}.*`] },
    sub: { allow: [`${ENROLL_INBOX_PREFIX}.>`] },
  };
}

/** The cluster named by an enrollment or renewal subject, or undefined for any other subject. */
export function clusterOfRequestSubject(subject: string, prefix: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const cluster = subject.slice(prefix.length + 1);
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(cluster) ? cluster : undefined;
}
