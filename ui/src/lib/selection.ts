/**
 * Which executions a bulk action acts on: rows picked one by one (a click toggles one, a
 * shift-click sets the whole range from the last clicked row to the same value, the header box
 * the loaded rows), or every execution matching the list's filter. Pure and immutable: the list
 * keeps one `Selection` in a `$state` and replaces it.
 */

export type Selection =
  | { kind: "rows"; ids: ReadonlySet<string>; anchor: string | null }
  | { kind: "matching" };

export const EMPTY: Selection = { kind: "rows", ids: new Set(), anchor: null };

/** A click on a row's box: toggles it, or with shift the range from the anchor to it. */
export function clickRow(sel: Selection, id: string, order: readonly string[], shift: boolean): Selection {
  const ids = new Set(sel.kind === "rows" ? sel.ids : order);
  const anchor = sel.kind === "rows" ? sel.anchor : null;
  const value = !ids.has(id);
  const from = anchor === null ? -1 : order.indexOf(anchor);
  const to = order.indexOf(id);
  if (shift && from >= 0 && to >= 0) {
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
      if (value) ids.add(order[i]);
      else ids.delete(order[i]);
    }
  } else if (value) ids.add(id);
  else ids.delete(id);
  return { kind: "rows", ids, anchor: id };
}

export type HeaderState = "none" | "some" | "all";

/** Whether nothing is picked (the header box is empty whatever rows are loaded). */
export function nonePicked(sel: Selection): boolean {
  return sel.kind === "rows" && sel.ids.size === 0;
}

/** The header box: all loaded rows picked (or every match), some, or none. */
export function headerState(sel: Selection, loaded: readonly string[]): HeaderState {
  if (sel.kind === "matching") return "all";
  const picked = loaded.filter((id) => sel.ids.has(id)).length;
  if (picked === 0) return "none";
  return picked === loaded.length ? "all" : "some";
}

/** A click on the header box: picks every loaded row, or none when all were picked. */
export function clickHeader(sel: Selection, loaded: readonly string[]): Selection {
  if (headerState(sel, loaded) === "all") return EMPTY;
  return { kind: "rows", ids: new Set(loaded), anchor: null };
}

export function isPicked(sel: Selection, id: string): boolean {
  return sel.kind === "matching" || sel.ids.has(id);
}

/** How many executions the selection names: `total` (the filter's count) for every match. */
export function pickedCount(sel: Selection, total: number | null): number | null {
  return sel.kind === "matching" ? total : sel.ids.size;
}

/** The `bulkExecutions` target: the picked ids in list order, or the filter itself. */
export function target<F>(sel: Selection, order: readonly string[], filter: F): { ids: string[] } | { filter: F } {
  if (sel.kind === "matching") return { filter };
  return { ids: order.filter((id) => sel.ids.has(id)) };
}
