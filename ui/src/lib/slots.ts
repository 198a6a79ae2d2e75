/**
 * The slots of a virtual list: a fixed pool of row elements, row i always in slot i % pool.
 * When the window [first, last) moves, a row that stays in view keeps its slot (its DOM is not
 * touched) and a row that comes in takes the slot of one that went out: no element is created
 * while scrolling.
 */
export function slotRows(first: number, last: number, pool: number, length: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < Math.min(pool, length); k++) {
    const index = first + ((((k - first) % pool) + pool) % pool);
    out.push(index < last ? index : -1);
  }
  return out;
}
