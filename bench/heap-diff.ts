/**
 * What grew between two heap snapshots (a tool, not a benchmark):
 * `npx tsx bench/heap-diff.ts <earlier.heapsnapshot> <later.heapsnapshot> [rows]`.
 *
 * Groups every node of each V8 heap snapshot (as `bench:soak` writes them with
 * `SOAK_HEAP_SNAPSHOTS`, or DevTools saves them) by kind and constructor name (objects
 * by constructor, closures by function name, strings, arrays, compiled code by kind…), and prints
 * the groups whose total self size changed most, with their counts.
 */
import { readFileSync } from 'node:fs';

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

function main(): void {
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

main();
