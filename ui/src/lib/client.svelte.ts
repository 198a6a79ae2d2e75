/**
 * The one GraphQL client of the app: queries and mutations over HTTP POST, subscriptions over one
 * graphql-ws (graphql-transport-ws) socket, a connection status for the indicator, and `live()`,
 * which resumes a stream from the last cursor processed after any drop.
 */
import { untrack } from "svelte";
import { createClient, type Client } from "graphql-ws";
import type { TypedDocumentString } from "../gql/graphql";
import { askToken, authHeaders, currentToken } from "./auth.svelte";
import { Batches, START, acceptNew, resumeAfter, retryDelay, type BatchTiming, type Sequenced, type StreamPosition } from "./live";

export type LiveStatus = "connected" | "catching-up" | "offline";

export const connection = $state({ status: "connected" as LiveStatus, streams: 0 });

export class GraphQLRequestError extends Error {}

/** A query or mutation. Asks for the token once on 401, then retries. */
export async function request<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> {
  for (;;) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    if (response.status === 401) {
      await askToken(currentToken() ? "That token was refused." : "This server requires a token.");
      continue;
    }
    const body = (await response.json()) as { data?: R; errors?: { message: string }[] };
    if (body.errors?.length) throw new GraphQLRequestError(body.errors.map((e) => e.message).join("; "));
    if (!body.data) throw new GraphQLRequestError(`HTTP ${response.status}`);
    return body.data;
  }
}

let socket: Client | null = null;
let quietTimer: ReturnType<typeof setTimeout> | undefined;

/** After a (re)connect the streams replay what they missed: "catching-up" until the socket
 * has been quiet for a moment (or for 2 s at most). */
function markActivity(): void {
  if (connection.status !== "catching-up") return;
  clearTimeout(quietTimer);
  quietTimer = setTimeout(() => (connection.status = "connected"), 300);
}

function ws(): Client {
  if (socket) return socket;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  let everConnected = false;
  socket = createClient({
    url,
    lazy: true,
    lazyCloseTimeout: 3000,
    retryAttempts: 0, // live() resubscribes itself, from its own cursor
    connectionParams: () => {
      const token = currentToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connected: () => {
        connection.status = everConnected ? "catching-up" : "connected";
        everConnected = true;
        if (connection.status === "catching-up") {
          markActivity();
          setTimeout(() => (connection.status = "connected"), 2000);
        }
      },
      message: (message) => {
        if (message.type === "next") markActivity();
      },
      closed: (event) => {
        if (connection.streams > 0) connection.status = "offline";
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4403 || code === 4401) {
          void askToken(currentToken() ? "That token was refused." : "This server requires a token.");
        }
      },
    },
  });
  return socket;
}

/** For tests and diagnostics: drop the socket as a network failure would. */
export function dropConnection(): void {
  socket?.terminate();
}

export interface LiveOptions<V, E extends Sequenced> extends BatchTiming {
  document: TypedDocumentString<unknown, V>;
  /** the variables for a (re)subscription starting after `after` */
  variables: (after: string | null) => V;
  /** where the first subscription starts: null (the stream's own start) or "HEAD" */
  initial: string | null;
  /** the event inside one `next` payload */
  pick: (data: never) => E;
  onEvents: (events: E[]) => void;
  onComplete?: () => void;
  /** a drop before the first event of a stream that started at HEAD: nothing to resume from */
  onGap?: () => void;
}

/** A subscription that survives drops: it resubscribes from the last cursor it processed and
 * never hands over an event twice. Returns a function that stops it. */
export function live<V, E extends Sequenced>(options: LiveOptions<V, E>): () => void {
  let position: StreamPosition = START;
  let stopped = false;
  let counted = true;
  let failures = 0;
  let unsubscribe: (() => void) | null = null;
  // live() is called from effects: its own bookkeeping must not become their dependency
  untrack(() => (connection.streams += 1));

  // events in batches (`BatchTiming`); a batch is de-duplicated when it is handed over
  const batches = new Batches<E>((pending) => {
    const accepted = acceptNew(position, pending);
    position = accepted.position;
    if (accepted.fresh.length) options.onEvents(accepted.fresh);
  }, options);
  const flush = () => batches.flush();
  const push = (event: E) => batches.push(event);
  const start = () => {
    if (stopped) return;
    const after = resumeAfter(position, options.initial);
    unsubscribe = ws().subscribe(
      { query: options.document.toString(), variables: options.variables(after) as Record<string, unknown> },
      {
        next: (result) => {
          failures = 0;
          if (result.data) push(options.pick(result.data as never));
        },
        error: () => {
          flush();
          if (stopped) return;
          connection.status = "offline";
          setTimeout(() => {
            start();
            if (position.cursor === null && options.initial === "HEAD") options.onGap?.();
          }, retryDelay(failures++));
        },
        complete: () => {
          flush();
          uncount();
          if (!stopped) options.onComplete?.();
        },
      },
    );
  };
  const uncount = () => {
    if (counted) untrack(() => (connection.streams -= 1));
    counted = false;
  };
  untrack(start);
  return () => {
    stopped = true;
    batches.cancel();
    uncount();
    unsubscribe?.();
  };
}
