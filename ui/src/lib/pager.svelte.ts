/**
 * A live list paged by keyset cursors: the rows on screen, new rows held back ("N new"), load
 * more. The fetch function is the screen's query; rows are keyed by `id` and never repeated.
 */
export interface KeysetPage<T> {
  nodes: T[];
  endCursor: string | null;
  hasMore: boolean;
}

export class KeysetList<T extends { id: string }> {
  rows: T[] = $state([]);
  fresh: T[] = $state([]);
  hasMore = $state(false);
  loading = $state(true);
  error = $state("");
  #cursor: string | null = null;
  #fetch: (after: string | null) => Promise<KeysetPage<T>>;

  constructor(fetch: (after: string | null) => Promise<KeysetPage<T>>) {
    this.#fetch = fetch;
  }

  byId(): Map<string, T> {
    return new Map([...this.rows, ...this.fresh].map((r) => [r.id, r]));
  }

  /** The first page again (`reset`), or the next one after the last row. */
  async load(reset: boolean): Promise<void> {
    this.loading = true;
    try {
      const page = await this.#fetch(reset ? null : this.#cursor);
      if (reset) {
        this.rows = page.nodes;
        this.fresh = [];
      } else {
        const known = this.byId();
        this.rows.push(...page.nodes.filter((n) => !known.has(n.id)));
      }
      this.#cursor = page.endCursor;
      this.hasMore = page.hasMore;
      this.error = "";
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loading = false;
    }
  }

  /** The rows of the first page not shown yet (newest first). */
  async unseenHead(): Promise<T[]> {
    const page = await this.#fetch(null);
    const known = this.byId();
    return page.nodes.filter((n) => !known.has(n.id));
  }

  /** New rows go on top when the reader is there, behind the banner otherwise. */
  addNew(rows: T[], atTop: boolean): void {
    if (atTop) this.rows.unshift(...rows);
    else this.fresh.unshift(...rows);
  }

  showFresh(): void {
    this.rows.unshift(...this.fresh);
    this.fresh = [];
  }
}
