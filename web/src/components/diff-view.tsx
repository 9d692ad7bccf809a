/** A unified diff, each line marked added/removed by its sign and its colour. */
export function DiffView({ diff, label }: { diff: string; label: string }) {
  const lines = diff.split('\n');
  return (
    <pre className="diff" aria-label={label} tabIndex={0}>
      {lines.map((line, i) => {
        const kind = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : 'ctx';
        return (
          <span key={i} className={`diff-${kind}`}>
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}
