// GraphiQL, bundled with its React (no CDN): queries over HTTP POST, subscriptions over the
// graphql-transport-ws websocket of the same server. The token (if the server wants one) is the
// UI's, kept in sessionStorage, or typed into GraphiQL's headers editor.
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { createClient } from "graphql-ws";
import "graphiql/style.css";
import "./page.css";

const token = sessionStorage.getItem("tercel.token");
const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;

const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  headers: auth,
  wsClient: createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
  }),
});

const initialQuery = `# Tercel's GraphQL API. Try a subscription too:
#   subscription { stateChanges(after: "HEAD") { cursor entity executionId state date } }
{
  executions(first: 5) {
    edges { node { id namespace flowId state { current startDate } } }
  }
}
`;

// `/graphql#query=...` opens that text in a tab of its own (the web UI's History tab links a
// cursor to the subscription that resumes the log after it). A fragment, not `?query=`: the
// server runs a GET with a query string as a GraphQL request, and never sees a fragment.
const linked = new URLSearchParams(location.hash.slice(1)).get("query") ?? undefined;

// the logo links back to the web UI: GraphiQL's page has no other way out
const logo = createElement(
  GraphiQL.Logo,
  null,
  createElement("a", { href: "/ui/", className: "tercel-home", title: "Back to the Tercel web UI" }, "Tercel"),
  " GraphiQL",
);

createRoot(document.getElementById("graphiql")!).render(
  createElement(
    GraphiQL,
    { fetcher, defaultQuery: initialQuery, query: linked, shouldPersistHeaders: false },
    logo,
  ),
);
