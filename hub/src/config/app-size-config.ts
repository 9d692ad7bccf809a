import { LIMITS } from '@flotilla/proto';
import { DEFAULT_RENDER_MAX_OUTPUT_MB } from './render-config';

/** How large one App may be (see README "Caps"). */
export interface AppSizeConfig {
  /**
   * FLOTILLA_MAX_APP_MB, in bytes: largest canonical manifests JSON of one App on one cluster. A larger
   * App is APP_TOO_LARGE and nothing of its AppSet is staged. At most LIMITS.maxAppManifestBytes (64 MiB),
   * which agents accept; Apps are stored compressed and sent in chunks, so no message or row grows with it.
   */
  readonly maxAppBytes: number;
}

export const DEFAULT_MAX_APP_MB = LIMITS.defaultAppManifestBytes / 2 ** 20;
const MAX_APP_MB_CEILING = LIMITS.maxAppManifestBytes / 2 ** 20;

/**
 * Reads FLOTILLA_MAX_APP_MB (1 to 64, default 16). It may not exceed FLOTILLA_RENDER_MAX_OUTPUT_MB (the
 * most a whole AppSet may render), or every App at the cap would fail as EXPANSION_TOO_LARGE instead.
 */
export function loadAppSizeConfig(env: Record<string, string | undefined>, problems: string[]): AppSizeConfig {
  const raw = env['FLOTILLA_MAX_APP_MB']?.trim();
  let mb = DEFAULT_MAX_APP_MB;
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > MAX_APP_MB_CEILING) {
      problems.push(`FLOTILLA_MAX_APP_MB must be an integer from 1 to ${MAX_APP_MB_CEILING} (got "${raw.slice(0, 20)}")`);
    } else {
      mb = value;
    }
  }
  // Only a valid output cap is compared; an invalid one is reported by render-config.ts.
  const outputRaw = env['FLOTILLA_RENDER_MAX_OUTPUT_MB']?.trim();
  const outputMb = outputRaw === undefined || outputRaw === '' ? DEFAULT_RENDER_MAX_OUTPUT_MB : Number(outputRaw);
  if (Number.isInteger(outputMb) && outputMb >= 1 && outputMb < mb) {
    problems.push(`FLOTILLA_MAX_APP_MB (${mb}) must not exceed FLOTILLA_RENDER_MAX_OUTPUT_MB (${outputMb}): the render output cap covers every App of an AppSet together`);
  }
  return { maxAppBytes: mb * 2 ** 20 };
}
