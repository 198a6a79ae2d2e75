/** The JSON tree's paging: pure functions. An output can hold a list of thousands of rows or a
 * string of megabytes; the tree shows the first of them and a button for the rest, so opening
 * a node costs a few hundred elements, never the whole document. */
export const PAGE = 100;
export const TEXT_LIMIT = 400;

/** The entries of an object or array that a node shows, and how many it holds back. */
export function pageEntries(value: unknown, limit: number): { shown: [string, unknown][]; hidden: number } {
  if (value === null || typeof value !== "object") return { shown: [], hidden: 0 };
  const entries = Object.entries(value as Record<string, unknown>);
  return { shown: entries.slice(0, limit), hidden: Math.max(0, entries.length - limit) };
}

/** A leaf as the tree prints it, cut after `limit` characters of a long string. */
export function leafText(value: unknown, limit: number): { text: string; cut: number } {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > limit ? { text: text.slice(0, limit), cut: text.length - limit } : { text, cut: 0 };
}
