/**
 * Current wall-clock time in ms, comparable between the page and its workers (each has
 * its own `performance.now()` origin; `timeOrigin` puts them on one scale).
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
