/**
 * The bearer token (`tercel server --token`): asked once, when the server first answers 401 or
 * refuses the websocket, kept in sessionStorage for the browser session, sent on every HTTP
 * request and in the websocket's `connection_init` payload.
 */
const KEY = "tercel.token";

export const auth = $state({ asking: false, error: "" });

let waiting: ((token: string) => void)[] = [];

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** A promise for a token the person types in (the TokenPrompt component answers it). */
export function askToken(reason: string): Promise<string> {
  auth.asking = true;
  auth.error = reason;
  return new Promise((resolve) => waiting.push(resolve));
}

export function provideToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
  auth.asking = false;
  const resolvers = waiting;
  waiting = [];
  for (const resolve of resolvers) resolve(token.trim());
}

export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
