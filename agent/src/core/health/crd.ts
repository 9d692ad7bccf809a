import { Health } from '@flotilla/proto';
import { describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionOf, field, listOf, textOf, type LiveObject } from './read.js';

/**
 * CustomResourceDefinition, in order: `NamesAccepted` False (a name clashes with another CRD) →
 * DEGRADED; `NonStructuralSchema` True → DEGRADED; `Established` True → HEALTHY; else PROGRESSING: a new
 * CRD takes a moment to be served, and custom resources of it cannot be applied until it is.
 */
export function judgeCustomResourceDefinition(object: LiveObject): ResourceJudgement {
  const names = conditionOf(object, 'NamesAccepted');
  if (names?.status === 'False') return judged(Health.DEGRADED, `CRD names not accepted: ${describeCondition(names, 'name conflict')}`);
  const nonStructural = conditionOf(object, 'NonStructuralSchema');
  if (nonStructural?.status === 'True') return judged(Health.DEGRADED, `CRD schema is not structural: ${describeCondition(nonStructural, 'schema violations')}`);
  const established = conditionOf(object, 'Established');
  if (established?.status === 'True') {
    const kind = textOf(field(object, 'spec', 'names', 'kind'));
    const served = listOf(field(object, 'spec', 'versions'))
      .filter((version) => field(version, 'served') === true)
      .flatMap((version) => textOf(field(version, 'name')) ?? []);
    return judged(Health.HEALTHY, `CRD is established${kind === undefined ? '' : `: ${kind}`}${served.length === 0 ? '' : ` (${served.join(', ')})`}`);
  }
  const detail = established === undefined ? '' : describeCondition(established);
  return judged(Health.PROGRESSING, `waiting for the CRD to be established${detail === '' ? '' : `: ${detail}`}`);
}
