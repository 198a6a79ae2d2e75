/**
 * A small history router: every screen is a path under /ui/ (a full page load of any of them
 * is served index.html by the server), query parameters hold filters and tabs.
 */
export const BASE = "/ui";

export const route = $state({ path: "/", params: new URLSearchParams() });

function read(): void {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  route.path = path === "" ? "/" : path;
  route.params = new URLSearchParams(location.search);
}

/** Go to an app path (`/executions/abc?tab=logs`). `replace` keeps history clean for filters. */
export function navigate(to: string, replace = false): void {
  const url = to.startsWith(BASE) ? to : BASE + to;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  read();
  if (!replace) window.scrollTo(0, 0);
}

/** Change some query parameters of the current path (null removes one). */
export function setParams(changes: Record<string, string | null>, replace = true): void {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === "") params.delete(key);
    else params.set(key, value);
  }
  const query = params.toString();
  navigate(location.pathname + (query ? `?${query}` : ""), replace);
}

/** Match `pattern` (`/executions/:id`) against a path: the parameters, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) out[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return out;
}

/** In-app links: left clicks on <a href="/ui/..."> navigate without a page load. */
export function startRouter(): void {
  read();
  addEventListener("popstate", read);
  document.addEventListener("click", (event) => {
    const anchor = (event.target as Element).closest?.("a");
    if (!anchor || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || anchor.target || anchor.hasAttribute("download")) return;
    const href = anchor.getAttribute("href");
    if (!href || !href.startsWith(`${BASE}/`)) return;
    event.preventDefault();
    navigate(href);
  });
}
