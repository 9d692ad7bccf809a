import { X509Certificate } from 'node:crypto';
import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { splitCertificates } from './x509';
import type { AgentLinkTrust } from './agent-link-ca.service';

/** What one agent-link CA does now. */
export enum AgentLinkCaRole {
  /** Signs the client certificates agents enroll and renew. */
  SIGNING = 'SIGNING',
  /** Replaced by a rotation: still trusted, and still signing the hub's server certificates, until its overlap ends. */
  RETIRING = 'RETIRING',
  /** Trusted only (FLOTILLA_CA_TRUST_FILE). */
  TRUSTED = 'TRUSTED',
}
registerEnumType(AgentLinkCaRole, { name: 'AgentLinkCaRole', description: 'What an agent-link CA does now.' });

@ObjectType('AgentLinkAuthority', { description: 'A CA of the gRPC agent link.' })
export class AgentLinkAuthorityModel {
  @Field({ description: "SHA-256 of the CA certificate's DER, hex." })
  fingerprint: string;

  @Field()
  subject: string;

  @Field(() => AgentLinkCaRole)
  role: AgentLinkCaRole;

  @Field({ description: 'True for the CA that signs the hub replicas\' server certificates now.' })
  signsServerCertificates: boolean;

  @Field()
  notBefore: Date;

  @Field()
  notAfter: Date;

  @Field(() => Date, { nullable: true, description: 'For a RETIRING CA: when it stops being trusted.' })
  retiresAt: Date | null;
}

@ObjectType('AgentLinkTrust', { description: 'The CAs of the gRPC agent link, and where a rotation stands.' })
export class AgentLinkTrustModel {
  @Field({ description: 'PEM of every CA certificate agents must trust now (what FLOTILLA_HUB_CA / the caBundle of registerCluster carry).' })
  bundlePem: string;

  @Field(() => [AgentLinkAuthorityModel], { description: 'The signing CA first.' })
  authorities: AgentLinkAuthorityModel[];

  @Field(() => Date, { nullable: true, description: 'When the rotation in progress ends (the retiring CA stops being trusted); null without one.' })
  rotationEndsAt: Date | null;

  @Field(() => Int, {
    description:
      'Clusters still holding an unexpired client certificate from before the signing CA took over (0 without a rotation). Connected agents renew within seconds of a rotation; one that stays offline until the rotation ends must be re-installed.',
  })
  clustersOnRetiringCA: number;

  static from(trust: AgentLinkTrust, clustersOnRetiringCA: number): AgentLinkTrustModel {
    const authorities = trust.trusted.map((ca) => {
      const certificate = new X509Certificate(splitCertificates(ca.bundlePem)[0]!);
      const role = ca.fingerprint === trust.clientSigner.fingerprint ? AgentLinkCaRole.SIGNING : trust.retiresAt && ca.fingerprint === trust.serverSigner.fingerprint ? AgentLinkCaRole.RETIRING : AgentLinkCaRole.TRUSTED;
      return Object.assign(new AgentLinkAuthorityModel(), {
        fingerprint: ca.fingerprint,
        subject: certificate.subject,
        role,
        signsServerCertificates: ca.fingerprint === trust.serverSigner.fingerprint,
        notBefore: new Date(certificate.validFrom),
        notAfter: new Date(certificate.validTo),
        retiresAt: role === AgentLinkCaRole.RETIRING ? (trust.retiresAt ?? null) : null,
      });
    });
    return Object.assign(new AgentLinkTrustModel(), { bundlePem: trust.bundlePem, authorities, rotationEndsAt: trust.retiresAt ?? null, clustersOnRetiringCA });
  }
}
