/**
 * In-place stable sorts for the short arrays of the per-message path (a message's matches: a few to a
 * few dozen). `Array.prototype.sort` with a comparator copies the array into a work array first; at
 * hundreds of thousands of messages a second those copies are a visible share of the garbage. An
 * insertion sort allocates nothing, is stable like V8's TimSort (same order for a consistent
 * comparator), and beats it on short arrays; longer ones still go to `Array.prototype.sort`.
 */

/** Longer arrays are sorted by `Array.prototype.sort` (insertion sort is quadratic). */
export const SMALL_SORT_MAX = 32;

/** Sorts `a` in place by `compare` (negative: first argument first), stably; returns `a`. */
export function sortSmall<T>(a: T[], compare: (x: T, y: T) => number): T[] {
  if (a.length > SMALL_SORT_MAX) return a.sort(compare);
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && compare(a[j]!, v) > 0) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
  return a;
}

const ascending = (x: number, y: number): number => x - y;

/** Sorts numbers ascending in place; returns `a`. */
export function sortNumbers(a: number[]): number[] {
  return sortSmall(a, ascending);
}
