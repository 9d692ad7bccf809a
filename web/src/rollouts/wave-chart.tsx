import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RolloutLiveFragment } from '../gen/graphql';

/** The series of the chart, in stacking order, with the colours of the states elsewhere on the page. */
const SERIES = [
  { key: 'healthy', name: 'Healthy', color: '#1b7f3b' },
  { key: 'progressing', name: 'Progressing', color: '#1f5fbf' },
  { key: 'pending', name: 'Pending', color: '#8a94a6' },
  { key: 'failed', name: 'Failed', color: '#b3261e' },
  { key: 'skipped', name: 'Skipped', color: '#a86500' },
] as const;

/**
 * Each wave's targets by state as a stacked bar, in wave order (a picture of what the pipeline above
 * says in words; its text alternative is the figure's caption and the counts in each wave).
 */
export default function WaveChart({ waves }: { waves: RolloutLiveFragment['waves'] }) {
  const rows = waves.map((wave) => ({ wave: wave.name, ...wave.counts }));
  const summary = waves.map((w) => `${w.name}: ${w.counts.healthy} of ${w.counts.total} healthy`).join('; ');
  return (
    <figure className="wave-chart" aria-label="Targets by state per wave">
      <ResponsiveContainer width="100%" height={Math.max(120, 36 * waves.length + 70)}>
        <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
          <CartesianGrid horizontal={false} strokeDasharray="3 3" />
          <XAxis type="number" allowDecimals={false} domain={[0, 'dataMax']} />
          <YAxis type="category" dataKey="wave" width={96} />
          <Tooltip />
          <Legend />
          {SERIES.map((series) => (
            <Bar key={series.key} dataKey={series.key} name={series.name} stackId="targets" fill={series.color} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
