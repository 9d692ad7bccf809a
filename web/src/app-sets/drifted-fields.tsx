import type { ClusterAppQuery } from '../gen/graphql';
import { DiffView } from '../components/diff-view';
import './drifted-fields.css';

type Resource = NonNullable<NonNullable<ClusterAppQuery['cluster']>['app']>['resources'][number];
type Field = Resource['drift'][number];

/** How a missing side reads: the field is absent from the applied result or from the live object. */
const ABSENT = '(not set)';

/**
 * The drifted fields of one object as small diffs: the path, then `- <applied value>` and
 * `+ <live value>`. A secret field says its value is hidden; a field whose values the agent did not
 * send (an older agent) shows its path alone.
 */
export function DriftedFields({ resource }: { resource: Resource }) {
  if (resource.drift.length === 0) return null;
  const what = `${resource.kind} ${resource.name}`;
  return (
    <ul className="drift-list" aria-label={`Drifted fields of ${what}`}>
      {resource.drift.map((field) => (
        <li key={field.path}>
          <code>{field.path}</code>
          <FieldValues field={field} />
        </li>
      ))}
    </ul>
  );
}

function FieldValues({ field }: { field: Field }) {
  if (field.redacted) return <span className="drift-hidden"> — value hidden (secret)</span>;
  if (!field.valuesKnown) return null;
  return <DiffView diff={`- ${field.expected ?? ABSENT}\n+ ${field.live ?? ABSENT}`} label={`${field.path}: applied value (-), live value (+)`} />;
}
