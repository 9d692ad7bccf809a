import type { CaseResult } from '../lib/pairs.js';
import { S1 } from './s1-expand.js';
import { S2 } from './s2-release.js';
import { S3 } from './s3-memory.js';
import { S4 } from './s4-reconnect.js';
import { S5 } from './s5-drift.js';
import { S6 } from './s6-waves.js';
import { S7 } from './s7-fleet-page.js';

export type Profile = 'quick' | 'full';

/** A benchmark scenario: groups of cases, each run in a child process of its own. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Printed under the table: how it was measured, what the baseline is, configuration caveats. */
  readonly notes: readonly string[];
  groups(profile: Profile): readonly string[];
  /** Upper bound of one group's child process; it is stopped (and cleans up) after that. */
  groupTimeoutMs(profile: Profile): number;
  runGroup(group: string, profile: Profile): Promise<CaseResult[]>;
}

export const SCENARIOS: readonly Scenario[] = [S1, S2, S3, S4, S5, S6, S7];
