import { describe, expect, it } from "vitest";
import { KeysetList, RENDERED, REVEAL, type KeysetPage } from "./pager.svelte";

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
  it("looks past rows placed from the stream to the ones a drop missed", async () => {
    // loaded a, b; the connection dropped while c, d were created; e, f came live from the
    // stream (snapshots) after the reconnect; the replayed c, d have no row: a look must find them
    const ids = ["b", "a"];
    const list = new KeysetList(server(ids, 2));
    await list.load(true);
    ids.unshift("f", "e", "d", "c");
    ids.sort().reverse();
    list.addNew([{ id: "f" }, { id: "e" }], true, true);
    const unseen = await list.unseenHead();
    expect(unseen.map((r) => r.id)).toEqual(["d", "c"]);
    list.addNew(unseen, true);
    expect(list.rows.map((r) => r.id).sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
    // the same rows placed by a look stop a look at once (as before the stream's rows)
    ids.unshift("g");
    expect((await list.unseenHead()).map((r) => r.id)).toEqual(["g"]);
  });
  it("keeps the newest first page when an older one answers after it", async () => {
    // a screen whose filter or sort changed asks for its first page again while the first
    // page of the old one is still out: that answer, coming last, must not replace the rows
    const answers: ((page: KeysetPage<Row>) => void)[] = [];
    const list = new KeysetList<Row>(() => new Promise((resolve) => answers.push(resolve)));
    const old = list.load(true);
    const current = list.load(true);
    answers[1]({ nodes: [{ id: "by-duration" }], endCursor: "1", hasMore: false });
    await current;
    expect(list.loading).toBe(false);
    answers[0]({ nodes: [{ id: "newest" }], endCursor: "1", hasMore: true });
    await old;
    expect(list.rows.map((r) => r.id)).toEqual(["by-duration"]);
    expect(list.hasMore).toBe(false);
    // and a next page asked for the old first page is dropped too
    const more = list.load(false);
    const again = list.load(true);
    answers[3]({ nodes: [{ id: "fresh" }], endCursor: "1", hasMore: false });
    await again;
    answers[2]({ nodes: [{ id: "stale-next" }], endCursor: "2", hasMore: true });
    await more;
    expect(list.rows.map((r) => r.id)).toEqual(["fresh"]);
  });
  it("keeps the rows and reports the error of a failed page", async () => {
    const list = new KeysetList<Row>(async () => { throw new Error("HTTP 500"); });
    await list.load(true);
    expect(list.error).toBe("HTTP 500");
    expect(list.loading).toBe(false);
  });
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("KeysetList, live head", () => {
  /** A growing server: `add(n)` creates n rows on top (newest first), pages of 50. */
  function growing() {
    const ids: string[] = [];
    let next = 0;
    const add = (n: number) => {
      for (let i = 0; i < n; i++) ids.unshift(`x${String(next++).padStart(5, "0")}`);
    };
    const pages = server(ids, 50);
    // each page answers on a later turn of the event loop, as the network does
    const fetch = async (after: string | null) => {
      await tick();
      return pages(after);
    };
    return { ids, add, fetch };
  }
  const shown = (list: KeysetList<Row>) => [...list.fresh, ...list.rows].map((r) => r.id);

  it("finds every new row when more than a page arrived between two looks", async () => {
    const s = growing();
    s.add(30);
    const list = new KeysetList<Row>((after) => s.fetch(after));
    await list.load(true);
    s.add(137); // between two looks: almost three pages
    list.addNew(await list.unseenHead(), false);
    expect(list.fresh.map((r) => r.id)).toEqual(s.ids.slice(0, 137)); // behind the banner
    s.add(51);
    list.addNew(await list.unseenHead(), true);
    expect(list.rows.map((r) => r.id)).toEqual([...s.ids.slice(0, 51), ...s.ids.slice(188)]);
    list.showFresh();
    expect(list.rows.length).toBe(s.ids.length);
    expect(new Set(list.rows.map((r) => r.id))).toEqual(new Set(s.ids));
  });

  it("a look asked for during a look runs after it: no row missed or repeated", async () => {
    const s = growing();
    const list = new KeysetList<Row>((after) => s.fetch(after));
    await list.load(true);
    const looks: Promise<void>[] = [];
    for (let burst = 0; burst < 20; burst++) {
      s.add(burst * 7); // up to 133 rows between looks
      looks.push(list.refreshHead((rows) => list.addNew(rows, burst % 2 === 0)));
      await tick();
    }
    await Promise.all(looks);
    await list.refreshHead((rows) => list.addNew(rows, true));
    expect(shown(list).sort()).toEqual([...s.ids].sort());
    expect(new Set(shown(list)).size).toBe(s.ids.length);
  });

  it("a small first page at the head pages on to the known rows", async () => {
    const s = growing();
    s.add(40);
    const sizes: (number | undefined)[] = [];
    const list = new KeysetList<Row>(async (after, first) => {
      sizes.push(first);
      const page = await s.fetch(after);
      return first === undefined ? page : { nodes: page.nodes.slice(0, first), endCursor: String(Number(after ?? 0) + first), hasMore: true };
    }, 10);
    await list.load(true);
    s.add(23);
    list.addNew(await list.unseenHead(), true);
    expect(list.rows.map((r) => r.id)).toEqual(s.ids);
    expect(sizes).toEqual([undefined, 10, undefined]); // load, then the look: 10, then a page
  });

  it("before its first page a list looks at one page only", async () => {
    const s = growing();
    s.add(500);
    let pages = 0;
    const list = new KeysetList<Row>(async (after) => {
      pages += 1;
      return s.fetch(after);
    });
    expect((await list.unseenHead()).length).toBe(50);
    expect(pages).toBe(1);
  });

  it("adding a row already shown does not repeat it", async () => {
    const s = growing();
    s.add(3);
    const list = new KeysetList<Row>((after) => s.fetch(after));
    await list.load(true);
    list.addNew([{ id: s.ids[0] }, { id: "new" }, { id: "new" }], true);
    expect(list.rows.map((r) => r.id)).toEqual(["new", ...s.ids]);
  });
});

describe("KeysetList, rows by id and rows rendered", () => {
  it("keeps byId the rows and held-back rows through loads, new rows and the banner", async () => {
    const ids = ["c", "b", "a"];
    const list = new KeysetList(server(ids, 2));
    await list.load(true);
    const index = list.byId();
    expect([...index.keys()].sort()).toEqual(["b", "c"]);
    await list.load(false);
    list.addNew([{ id: "d" }], true, true);
    list.addNew([{ id: "e" }, { id: "d" }], false);
    expect([...index.keys()].sort()).toEqual(["a", "b", "c", "d", "e"]);
    list.showFresh();
    expect(list.byId().get("e")).toBe(list.rows[0]); // the row the page shows, not a copy
    expect(list.byId().get("a")).toBe(list.rows.find((r) => r.id === "a"));
    expect(list.byId().size).toBe(list.rows.length);
    await list.load(true);
    expect([...list.byId().keys()].sort()).toEqual(["b", "c"]);
  });
  it("renders the first rows only: new rows on top push the oldest below, `more` brings them", async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `r${String(200 - i).padStart(3, "0")}`);
    const list = new KeysetList(server(ids, 60));
    await list.load(true);
    expect(list.visible.length).toBe(60);
    const fresh = Array.from({ length: RENDERED }, (_, i) => ({ id: `n${i}` }));
    list.addNew(fresh, true, true);
    expect(list.rows.length).toBe(60 + RENDERED);
    expect(list.visible.map((r) => r.id)).toEqual(list.rows.slice(0, RENDERED).map((r) => r.id));
    expect(list.hidden).toBe(60);
    await list.more(); // loaded rows first: no query
    expect(list.visible.length).toBe(RENDERED + REVEAL);
    await list.more();
    expect(list.hidden).toBe(0);
    expect(list.visible.length).toBe(60 + RENDERED);
  });
  it("`more` loads the next page once every loaded row is rendered", async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `r${String(999 - i)}`);
    const list = new KeysetList(server(ids, 50));
    await list.load(true);
    for (let i = 0; i < 4; i++) await list.more();
    expect(list.rows.length).toBe(250);
    expect(list.visible.map((r) => r.id)).toEqual(ids);
  });
});
