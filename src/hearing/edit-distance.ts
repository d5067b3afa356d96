/** Levenshtein distance between two sequences (words or characters), compared with `===`. */
export function editDistanceOf<T>(reference: readonly T[], hypothesis: readonly T[]): number {
  // A plain loop, not `Array.from({ length }, fn)`: pages with Prototype.js 1.7 (Jira-era,
  // Magento 1) replace Array.from with `$A`, which ignores the map function and would give a
  // row of undefined here (every distance NaN). tests/e2e/hostile-page.spec.ts runs under it.
  let previous: number[] = [];
  for (let j = 0; j <= hypothesis.length; j++) previous.push(j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const substitution = previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[hypothesis.length]!;
}
