/**
 * A live list paged by keyset cursors: the rows on screen, new rows held back ("N new"), load
 * more. The fetch function is the screen's query; rows are keyed by `id` and never repeated.
 */
export interface KeysetPage<T> {
  nodes: T[];
  endCursor: string | null;
  hasMore: boolean;
}

/** rows a list renders at first (the page is laid out again whole on each change: a list at
 * its top, taking new rows at 100 executions/s, spent most of each frame on layout once it
 * held hundreds of rows) and how many more each `more` reveals */
export const RENDERED = 100;
export const REVEAL = 50;

/** `row` deeply reactive on its own (a change of its fields updates what shows them), the same
 * object when it already is. */
function reactive<T extends object>(row: T): T {
  const made = $state(row);
  return made;
}

/** The loaded rows live in a plain array changed in place, each row reactive on its own, and a
 * counter says when the array changed: what the page renders (`visible`, the first `limit`) is
 * copied from it once per change. A deeply reactive array (the list's before) moved every
 * loaded row's signal on each `unshift` of new rows on top, per batch of events, so the page's
 * script time per batch grew with the rows loaded (100 executions/s load 6,000 a minute); a
 * new array per batch copies them all as well. */
export class KeysetList<T extends { id: string }> {
  #rows: T[] = [];
  #held: T[] = [];
  /** bumped when `#rows` (`#held`) change: their rows' own fields are reactive by themselves */
  #rowsVersion = $state(0);
  #heldVersion = $state(0);
  /** the first rows: what the page renders (the rest stay loaded, revealed by `more`) */
  limit = $state(RENDERED);
  visible: T[] = $derived.by(() => {
    void this.#rowsVersion;
    return this.#rows.slice(0, this.limit);
  });
  /** every loaded row, in order (a copy: read it when needed, not per batch of new rows) */
  rows: T[] = $derived.by(() => {
    void this.#rowsVersion;
    return [...this.#rows];
  });
  /** new rows held back while the reader is not at the top (a copy, as `rows`) */
  fresh: T[] = $derived.by(() => {
    void this.#heldVersion;
    return [...this.#held];
  });
  hasMore = $state(false);
  loading = $state(true);
  error = $state("");
  #cursor: string | null = null;
  /** a first page came: the head can be compared with it */
  #loaded = false;
  /** bumped by each `load(true)`: answers to loads begun before it are stale */
  #generation = 0;
  #look: Promise<void> | null = null;
  #again: Promise<void> | null = null;
  #fetch: (after: string | null, first?: number) => Promise<KeysetPage<T>>;
  #headSize: number | undefined;
  /** rows placed from the stream (a created execution's snapshot), not by a look at the head:
   * they arrive out of order with the rows a dropped connection made the list miss, so a look
   * does not stop at them (it stops at a row known from a load or an earlier look) */
  #viaStream = new Set<string>();
  /** the rows and the held-back ones by id, the same (reactive) objects as in `rows` and
   * `fresh`, kept up to date as they change: a live list asks for it per batch of events, and
   * building it from 1,000 rows each time cost a tenth of the page's script time at 100
   * executions/s */
  #index = new Map<string, T>();

  /** `fetch(after, first)`: a page after the cursor; `first` (the page size) is given for the
   * first page of a look at the head only: `headSize`, small, since a look usually finds a few
   * new rows (the next pages of a look, and `load`, take the fetch's own size). */
  constructor(fetch: (after: string | null, first?: number) => Promise<KeysetPage<T>>, headSize?: number) {
    this.#fetch = fetch;
    this.#headSize = headSize;
  }

  /** The rows on the page and behind the banner, by id (the list's own map: read it, do not
   * change it). */
  byId(): ReadonlyMap<string, T> {
    return this.#index;
  }

  /** Index the first `count` entries of `from` (the reactive rows). */
  #indexFirst(from: T[], count: number): void {
    for (let i = 0; i < count; i++) this.#index.set(from[i].id, from[i]);
  }

  /** The first page again (`reset`), or the next one after the last row. An answer to a load
   * begun before the latest first page was asked for is dropped: a screen whose filter or sort
   * changed asks again while the old first page may still be out, and that answer, coming
   * last, would replace the rows with the old filter's (seen under load: the task runs sorted
   * by duration showed the newest-first page). */
  async load(reset: boolean): Promise<void> {
    const generation = reset ? ++this.#generation : this.#generation;
    this.loading = true;
    try {
      const page = await this.#fetch(reset ? null : this.#cursor);
      if (generation !== this.#generation) return;
      if (reset) {
        this.#rows = page.nodes.map(reactive);
        this.#held = [];
        this.#viaStream.clear();
        this.#index.clear();
        this.#indexFirst(this.#rows, this.#rows.length);
        this.limit = Math.max(RENDERED, this.#rows.length);
      } else {
        const added = page.nodes.filter((n) => !this.#index.has(n.id)).map(reactive);
        this.#rows.push(...added);
        this.#indexFirst(added, added.length);
      }
      this.#rowsVersion++;
      if (reset) this.#heldVersion++;
      this.#cursor = page.endCursor;
      this.#loaded = true;
      this.hasMore = page.hasMore;
      this.error = "";
    } catch (e) {
      if (generation === this.#generation) this.error = (e as Error).message;
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** The rows of the head not shown yet, newest first. The first page, then the next ones for
   * as long as no row of a page is known from a load or an earlier look (rows placed from the
   * stream do not count: they may be newer than rows a dropped connection missed): however many
   * rows arrived since the last look (more than a page at a high rate, or after a slow answer),
   * the look reaches a row already known
   * (or the end), so none is skipped. A list whose first page has not come yet looks at one
   * page only (from nothing known, it would page through everything). */
  async unseenHead(): Promise<T[]> {
    const found: T[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.#fetch(after, after === null ? this.#headSize : undefined);
      const known = this.#index;
      const unseen = page.nodes.filter((n) => !known.has(n.id));
      found.push(...unseen);
      const anchored = page.nodes.some((n) => known.has(n.id) && !this.#viaStream.has(n.id));
      // what this look paged through is the head in order now: no longer only from the stream
      for (const n of page.nodes) this.#viaStream.delete(n.id);
      if (anchored || !page.hasMore || page.endCursor === null) break;
      if (!this.#loaded) break;
      after = page.endCursor;
    }
    return found;
  }

  /** One look at the head at a time, its new rows handed to `place` (see `addNew`). A call
   * during a look makes one more look once it ends (calls meanwhile share it): rows committed
   * while a look is out are found by the next one, and two looks never race. (Two looks out at
   * once, tried under load 14-18 at 35-63 executions/s: appearance p99 1.6-2.2 s against
   * 1.1 s, twice the queries for the same rows.) */
  refreshHead(place: (rows: T[]) => void): Promise<void> {
    if (this.#look) {
      this.#again ??= this.#look.then(() => {
        this.#again = null;
        return this.refreshHead(place);
      });
      return this.#again;
    }
    this.#look = (async () => {
      try {
        if (this.#loaded) place(await this.unseenHead());
        else await this.load(true);
      } catch (e) {
        this.error = (e as Error).message;
      } finally {
        this.#look = null;
      }
    })();
    return this.#look;
  }

  /** New rows go on top when the reader is there, behind the banner otherwise; a row already
   * on the page (or twice in `rows`) is not added again. */
  addNew(rows: T[], atTop: boolean, fromStream = false): void {
    const known = new Set<string>();
    const unseen = rows.filter((r) => !this.#index.has(r.id) && !known.has(r.id) && (known.add(r.id), true));
    if (!unseen.length) return;
    if (fromStream) {
      for (const r of unseen) this.#viaStream.add(r.id);
      // bounded: the oldest go first (a look then stops at them, as before the stream's rows)
      for (const id of this.#viaStream) {
        if (this.#viaStream.size <= 5000) break;
        this.#viaStream.delete(id);
      }
    }
    const made = unseen.map(reactive);
    (atTop ? this.#rows : this.#held).unshift(...made);
    this.#indexFirst(made, made.length);
    if (atTop) this.#rowsVersion++;
    else this.#heldVersion++;
  }

  /** Loaded rows not rendered (new rows on top pushed them below the first `limit`). */
  get hidden(): number {
    return Math.max(0, this.loaded - this.limit);
  }

  /** How many rows are loaded (`rows.length`, without the copy). */
  get loaded(): number {
    void this.#rowsVersion;
    return this.#rows.length;
  }

  /** How many new rows are held back (`fresh.length`, without the copy). */
  get held(): number {
    void this.#heldVersion;
    return this.#held.length;
  }

  /** Render the next `REVEAL` loaded rows, or load the next page when every row is rendered
   * (and render it). */
  async more(): Promise<void> {
    if (!this.hidden) await this.load(false);
    this.reveal();
  }

  /** Render the next `REVEAL` loaded rows (as many as there are). */
  reveal(): void {
    this.limit = Math.max(this.limit, Math.min(this.#rows.length, this.limit + REVEAL));
  }

  /** The rows behind the banner on top, rendered with every row rendered before them. */
  showFresh(): void {
    this.#rows = this.#held.concat(this.#rows);
    this.limit += this.#held.length;
    this.#held = [];
    this.#rowsVersion++;
    this.#heldVersion++;
  }
}
