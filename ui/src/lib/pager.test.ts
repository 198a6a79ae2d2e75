import { describe, expect, it } from "vitest";
import { KeysetList, type KeysetPage } from "./pager.svelte";

type Row = { id: string };
/** A server of `ids`, newest first, `size` per page; cursors are positions. */
function server(ids: string[], size: number) {
  return async (after: string | null): Promise<KeysetPage<Row>> => {
    const start = after === null ? 0 : Number(after);
    const nodes = ids.slice(start, start + size).map((id) => ({ id }));
    return { nodes, endCursor: String(start + nodes.length), hasMore: start + size < ids.length };
  };
}

describe("KeysetList", () => {
  it("pages on from the last cursor and never repeats a row", async () => {
    const ids = ["e", "d", "c", "b", "a"];
    const list = new KeysetList(server(ids, 2));
    await list.load(true);
    expect(list.rows.map((r) => r.id)).toEqual(["e", "d"]);
    await list.load(false);
    await list.load(false);
    expect(list.rows.map((r) => r.id)).toEqual(ids);
    expect(list.hasMore).toBe(false);
    expect(list.loading).toBe(false);
  });
  it("holds new rows back unless the reader is at the top", async () => {
    const ids = ["b", "a"];
    const list = new KeysetList(server(ids, 10));
    await list.load(true);
    ids.unshift("c");
    const unseen = await list.unseenHead();
    expect(unseen.map((r) => r.id)).toEqual(["c"]);
    list.addNew(unseen, false);
    expect(list.rows.map((r) => r.id)).toEqual(["b", "a"]);
    expect(await list.unseenHead()).toEqual([]); // held back rows count as known
    list.showFresh();
    expect(list.rows.map((r) => r.id)).toEqual(["c", "b", "a"]);
    ids.unshift("d");
    list.addNew(await list.unseenHead(), true);
    expect(list.rows.map((r) => r.id)).toEqual(["d", "c", "b", "a"]);
  });
  it("keeps the rows and reports the error of a failed page", async () => {
    const list = new KeysetList<Row>(async () => { throw new Error("HTTP 500"); });
    await list.load(true);
    expect(list.error).toBe("HTTP 500");
    expect(list.loading).toBe(false);
  });
});
