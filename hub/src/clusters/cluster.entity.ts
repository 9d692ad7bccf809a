import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A registered Kubernetes cluster. `connectedReplica` is the hub process holding its agent stream. */
@Entity('clusters')
export class ClusterEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels: Record<string, string>;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  values: Record<string, string>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  connectedReplica: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  connectedSince: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  agentVersion: string | null;

  /** The API server's version as the agent last reported it; null until known (see ClusterCapabilitiesService). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  kubernetesVersion: string | null;

  /** The group/versions and group/version/kinds it serves, sorted; null until known. Capped by CAPABILITY_LIMITS. */
  @Column({ type: 'jsonb', nullable: true })
  apiVersions: string[] | null;

  /** Why the last report left the capabilities unknown (discovery failed, or over a cap); null otherwise. */
  @Column({ type: 'varchar', length: 512, nullable: true })
  capabilitiesProblem: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  capabilitiesReportedAt: Date | null;
}
