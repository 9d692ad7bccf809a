/**
 * The API token of this browser tab, kept in sessionStorage: it survives a reload of the tab and is
 * gone when the tab closes. Never in localStorage, a cookie or the URL.
 */
const KEY = 'flotilla.token';

export function readToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}

/** A pasted token without surrounding blanks and an optional `Bearer ` prefix; undefined when empty. */
export function normalizeToken(text: string): string | undefined {
  const token = text.trim().replace(/^bearer(\s+|$)/i, '').trim();
  return token === '' ? undefined : token;
}
