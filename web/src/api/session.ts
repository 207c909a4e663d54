// Where the bearer token lives between page loads. Only src/api reads or writes it.
const KEY = "berth.session";

interface StoredSession {
  token: string;
  expiresAt: string;
}

function read(): StoredSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "token" in parsed &&
      typeof parsed.token === "string" &&
      "expiresAt" in parsed &&
      typeof parsed.expiresAt === "string"
    ) {
      return { token: parsed.token, expiresAt: parsed.expiresAt };
    }
  } catch {
    // Corrupt or inaccessible storage: behave as signed out.
  }
  return null;
}

/** The stored token, unless it is missing or already past its expiry. */
export function getToken(): string | null {
  const s = read();
  if (s === null) return null;
  const expires = Date.parse(s.expiresAt);
  if (!Number.isNaN(expires) && expires <= Date.now()) {
    clearSession();
    return null;
  }
  return s.token;
}

export function setSession(token: string, expiresAt: string): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ token, expiresAt } satisfies StoredSession));
  } catch {
    // Storage disabled: the user will have to sign in again after a reload.
  }
}

export function clearSession(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing stored anyway.
  }
}
