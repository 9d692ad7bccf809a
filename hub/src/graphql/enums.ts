import { registerEnumType } from '@nestjs/graphql';

/** Health of an App or resource; always judged for a named revision. */
export enum HealthValue {
  HEALTHY = 'HEALTHY',
  PROGRESSING = 'PROGRESSING',
  DEGRADED = 'DEGRADED',
  SUSPENDED = 'SUSPENDED',
  MISSING = 'MISSING',
  UNKNOWN = 'UNKNOWN',
}

export enum SyncStatusValue {
  SYNCED = 'SYNCED',
  OUT_OF_SYNC = 'OUT_OF_SYNC',
  APPLYING = 'APPLYING',
  FAILED = 'FAILED',
  UNKNOWN = 'UNKNOWN',
}

registerEnumType(HealthValue, { name: 'Health', description: 'Health of an App or a resource, judged for a named revision.' });
registerEnumType(SyncStatusValue, { name: 'SyncStatus', description: 'Whether live objects match the applied revision.' });

/** Reads a stored enum name, defaulting to UNKNOWN for anything unexpected. */
export function toHealth(value: string | null | undefined): HealthValue {
  return value && value in HealthValue ? (value as HealthValue) : HealthValue.UNKNOWN;
}

export function toSyncStatus(value: string | null | undefined): SyncStatusValue {
  return value && value in SyncStatusValue ? (value as SyncStatusValue) : SyncStatusValue.UNKNOWN;
}
