/**
 * First-time User Timing marks of the execution page's phases (query sent, answer parsed,
 * compact timeline read, first layout): bench/uitrace.py reads them to break a navigation's
 * time down. Each name is marked once per page, so a live page adds no entries.
 */
const marked = new Set<string>();

export function markOnce(name: string): void {
  if (marked.has(name)) return;
  marked.add(name);
  performance.mark(`tercel:${name}`);
}
