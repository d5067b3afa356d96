/**
 * What grew between two heap snapshots (a tool, not a benchmark):
 * `npx tsx bench/heap-diff.ts <earlier.heapsnapshot> <later.heapsnapshot> [rows]`.
 *
 * Groups every node of each V8 heap snapshot (as `bench:soak` writes them with
 * `SOAK_HEAP_SNAPSHOTS`, or DevTools saves them) by kind and constructor name (objects
 * by constructor, closures by function name, strings, arrays, compiled code by kind…), and prints
 * the groups whose total self size changed most, with their counts.
 *
 * `npx tsx bench/heap-diff.ts --series <folder> [soak.json]`: every snapshot of a soak
 * (`heap-<seconds>.heapsnapshot`) split into the script's data (V8 objects, strings,
 * arrays, closures… — what a leak of ours would grow), V8's compiled code (bytecode and
 * the JIT's machine code, which grows as more functions get hot) and Blink's own objects
 * (DOM, styles, performance entries; not in the main JS heap figure), with each one's
 * growth after warm-up the way `bench:soak` reckons it (its `soak.json` gives the warm-up
 * end; default 40 s).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { comparisonWindows, growthAfterWarmUp } from '../tests/e2e/support/soak-report.ts';

interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

interface Group {
  count: number;
  bytes: number;
}

/** Self size and count per group (`object Foo`, `closure bar`, `string`, …). */
export function groupHeap(snapshot: HeapSnapshot): Map<string, Group> {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, Group>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!] ?? 'unknown';
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!] ?? '';
    // Strings and numbers are named by their value: one group each, not one per value.
    // Compiled code by its kind (bytecode, optimized machine code, feedback…), not per function.
    const key =
      type === 'object' || type === 'closure' || type === 'native'
        ? `${type} ${name.slice(0, 60)}`
        : type === 'code'
          ? `code ${name.split(' / ').slice(0, 2).join(' / ')}`
          : type;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += snapshot.nodes[i + sizeAt]!;
    groups.set(key, group);
  }
  return groups;
}

/** What a group key (see {@link groupHeap}) belongs to: the script's data, compiled code, or Blink's objects. */
export function partOf(key: string): 'data' | 'code' | 'blink' {
  if (key.startsWith('code')) return 'code';
  if (key.startsWith('native')) return 'blink';
  return 'data';
}

export interface HeapParts {
  /** Seconds into the soak (from the file name), in ms. */
  readonly at: number;
  readonly data: number;
  readonly code: number;
  readonly blink: number;
}

/** Each `heap-<seconds>.heapsnapshot` in `folder`, in time order, split by {@link partOf} (bytes of self size). */
export function heapParts(folder: string): HeapParts[] {
  const files = readdirSync(folder)
    .map((name) => ({ name, at: Number(/^heap-(\d+)\.heapsnapshot$/.exec(name)?.[1]) * 1000 }))
    .filter((f) => Number.isFinite(f.at))
    .sort((a, b) => a.at - b.at);
  return files.map(({ name, at }) => {
    const parts = { data: 0, code: 0, blink: 0 };
    for (const [key, group] of groupHeap(JSON.parse(readFileSync(join(folder, name), 'utf8')) as HeapSnapshot)) {
      parts[partOf(key)] += group.bytes;
    }
    return { at, ...parts };
  });
}

function series(folder: string, soakJson?: string): void {
  const warmUpEndsAt = soakJson
    ? (JSON.parse(readFileSync(soakJson, 'utf8')) as { run: { warmUpEndsAt: number } }).run.warmUpEndsAt
    : 40_000;
  const rows = heapParts(folder);
  const kib = (bytes: number) => (bytes / 1024).toFixed(0);
  console.log('| s | script data KiB | compiled code KiB | Blink objects KiB |');
  console.log('|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${(r.at / 1000).toFixed(0)} | ${kib(r.data)} | ${kib(r.code)} | ${kib(r.blink)} |`);
  const windows = comparisonWindows(rows.at(-1)?.at ?? 0);
  const growth = (part: 'data' | 'code' | 'blink') =>
    growthAfterWarmUp(
      rows.map((r) => ({ at: r.at, value: r[part] })),
      warmUpEndsAt,
      windows.lateStartMs,
      windows.earlyEndMs,
    );
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(
    `\ngrowth after warm-up (${(warmUpEndsAt / 1000).toFixed(0)} s, ${windows.label}): ` +
      `script data ${pct(growth('data'))}, compiled code ${pct(growth('code'))}, Blink objects ${pct(growth('blink'))}`,
  );
}

function main(): void {
  if (process.argv[2] === '--series') {
    const [folder, soakJson] = process.argv.slice(3);
    if (!folder) throw new Error('usage: tsx bench/heap-diff.ts --series <folder> [soak.json]');
    series(folder, soakJson);
    return;
  }
  const [earlierPath, laterPath, rowsArg] = process.argv.slice(2);
  if (!earlierPath || !laterPath) throw new Error('usage: tsx bench/heap-diff.ts <earlier.heapsnapshot> <later.heapsnapshot> [rows]');
  const read = (path: string) => groupHeap(JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot);
  const earlier = read(earlierPath);
  const later = read(laterPath);
  const total = (groups: Map<string, Group>) => [...groups.values()].reduce((n, g) => n + g.bytes, 0);
  const keys = new Set([...earlier.keys(), ...later.keys()]);
  const rows = [...keys]
    .map((key) => {
      const a = earlier.get(key) ?? { count: 0, bytes: 0 };
      const b = later.get(key) ?? { count: 0, bytes: 0 };
      return { key, bytes: b.bytes - a.bytes, count: b.count - a.count, later: b };
    })
    .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
    .slice(0, Number(rowsArg) || 25);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(`total self size: ${kib(total(earlier))} → ${kib(total(later))}\n`);
  console.log('| group | Δ size | Δ count | later size | later count |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.key} | ${kib(r.bytes)} | ${r.count} | ${kib(r.later.bytes)} | ${r.later.count} |`);
}

// A tool when run, a library when bench/soak.ts imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
