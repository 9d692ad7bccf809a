import { useEffect, useState } from 'react';

/** The current time, refreshed every `ms` while the component is shown. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** Calls `refresh` every `ms` while the component is shown (for lists no subscription covers). */
export function useRefresh(refresh: () => void, ms: number): void {
  useEffect(() => {
    const timer = setInterval(refresh, ms);
    return () => clearInterval(timer);
  }, [refresh, ms]);
}
