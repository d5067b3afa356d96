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
 * end; default 40 s), and over the run's second half.
 *
 * `npx tsx bench/heap-diff.ts --jit <earlier.heapsnapshot> <later.heapsnapshot> [rows]`: the
 * machine code V8 compiled (Sparkplug, Maglev and TurboFan code) by the function that holds
 * it (`name @ script file`), and how many code objects each holds. A function made hot swaps
 * its code for bigger optimized code: sizes grow, counts stay at one or two. A leak of code
 * (a deopt loop, scripts compiled afresh again and again) would show as counts that pile up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { comparisonWindows, growthAfterWarmUp, growthOverSecondHalf } from '../tests/e2e/support/soak-report.ts';

interface HeapSnapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: string[];
      readonly node_types: [string[], ...unknown[]];
      readonly edge_fields: string[];
      readonly edge_types: [string[], ...unknown[]];
    };
  };
  readonly nodes: number[];
  readonly edges: number[];
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
  const runMs = rows.at(-1)?.at ?? 0;
  const late = (part: 'data' | 'code' | 'blink') => growthOverSecondHalf(rows.map((r) => ({ at: r.at, value: r[part] })), runMs);
  console.log(
    `growth over the second half: script data ${pct(late('data'))}, compiled code ${pct(late('code'))}, Blink objects ${pct(late('blink'))}`,
  );
}

interface MachineCode {
  /** Code objects (with their instruction streams) held by one function. */
  count: number;
  bytes: number;
}

/**
 * Machine code in a snapshot by holder: `name @ file #id` for a function (id: its
 * SharedFunctionInfo's node id) that a closure runs it for, `(shared)`
 * for code held by a function's SharedFunctionInfo only (baseline code, no closure pointing
 * at it), `(other)` for the rest (regular expressions, builtins' wrappers).
 */
export function machineCodeByFunction(snapshot: HeapSnapshot): { code: Map<string, MachineCode>; functionsByFile: Map<string, number> } {
  const { node_fields: nodeFields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes } = snapshot.snapshot.meta;
  const width = nodeFields.length;
  const edgeWidth = edgeFields.length;
  const [typeAt, nameAt, sizeAt, edgeCountAt, idAt] = ['type', 'name', 'self_size', 'edge_count', 'id'].map((f) => nodeFields.indexOf(f)) as [number, number, number, number, number];
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f)) as [number, number, number];
  const nodeCount = snapshot.nodes.length / width;
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let node = 0, edge = 0; node < nodeCount; node++) {
    firstEdge[node] = edge;
    edge += snapshot.nodes[node * width + edgeCountAt]! * edgeWidth;
  }
  firstEdge[nodeCount] = snapshot.edges.length;
  const type = (node: number) => nodeTypes[0][snapshot.nodes[node * width + typeAt]!];
  const name = (node: number) => snapshot.strings[snapshot.nodes[node * width + nameAt]!] ?? '';
  const size = (node: number) => snapshot.nodes[node * width + sizeAt]!;
  const edgesOf = function* (node: number): Generator<[string, number]> {
    for (let e = firstEdge[node]!; e < firstEdge[node + 1]!; e += edgeWidth) {
      const edgeType = edgeTypes[0][snapshot.edges[e + edgeTypeAt]!];
      const raw = snapshot.edges[e + edgeNameAt]!;
      const edgeName = edgeType === 'element' || edgeType === 'hidden' ? String(raw) : (snapshot.strings[raw] ?? '');
      yield [edgeName, snapshot.edges[e + edgeToAt]! / width];
    }
  };
  const child = (node: number, edgeName: string) => {
    for (const [n, to] of edgesOf(node)) if (n === edgeName) return to;
    return undefined;
  };
  // Who points at each Code object.
  const holders = new Map<number, number[]>();
  for (let node = 0; node < nodeCount; node++) {
    for (const [, to] of edgesOf(node)) {
      if (type(to) === 'code' && name(to) === 'system / Code') (holders.get(to) ?? holders.set(to, []).get(to)!).push(node);
    }
  }
  const groups = new Map<string, MachineCode>();
  for (const [code, holdersOfCode] of holders) {
    let bytes = size(code);
    for (const [, to] of edgesOf(code)) if (name(to) === 'system / InstructionStream') bytes += size(to);
    const closure = holdersOfCode.find((node) => type(node) === 'closure');
    let key = '(other)';
    if (closure !== undefined) {
      const shared = child(closure, 'shared');
      const script = shared === undefined ? undefined : child(shared, 'script');
      const scriptName = script === undefined ? undefined : child(script, 'name');
      const file = scriptName === undefined ? '?' : (name(scriptName).split('/').at(-1) ?? '?');
      // One function can have many closures, and minified names repeat: the function is its
      // SharedFunctionInfo, whose node id a heap profiler keeps across the snapshots it takes.
      const functionId = shared === undefined ? '' : ` #${snapshot.nodes[shared * width + idAt]}`;
      key = `${name(closure) || '(anonymous)'} @ ${file || '(no file)'}${functionId}`;
    } else if (holdersOfCode.some((node) => name(node).startsWith('system / SharedFunctionInfo'))) {
      key = '(shared)';
    }
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += bytes;
    groups.set(key, group);
  }
  // Every function V8 has met so far (a SharedFunctionInfo), by file: the bound on how many
  // can ever hold machine code.
  const functionsByFile = new Map<string, number>();
  for (let node = 0; node < nodeCount; node++) {
    if (!name(node).startsWith('system / SharedFunctionInfo')) continue;
    const script = child(node, 'script');
    const scriptName = script === undefined ? undefined : child(script, 'name');
    const file = scriptName === undefined ? '?' : name(scriptName).split('/').at(-1) || '(no file)';
    functionsByFile.set(file, (functionsByFile.get(file) ?? 0) + 1);
  }
  return { code: groups, functionsByFile };
}

function jit(earlierPath: string, laterPath: string, rowsToShow: number): void {
  const read = (path: string) => machineCodeByFunction(JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot);
  const { code: earlier } = read(earlierPath);
  const { code: later, functionsByFile } = read(laterPath);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const fileOf = (key: string) => (key.includes(' @ ') ? key.split(' @ ')[1]!.split(' #')[0]! : key);
  const byFile = new Map<string, { earlier: number; later: number }>();
  for (const [map, side] of [[earlier, 'earlier'], [later, 'later']] as const) {
    for (const [key, code] of map) {
      const file = byFile.get(fileOf(key)) ?? { earlier: 0, later: 0 };
      file[side] += code.bytes;
      byFile.set(fileOf(key), file);
    }
  }
  const withCode = (map: Map<string, MachineCode>, file: string) => [...map.keys()].filter((key) => key.includes(' @ ') && fileOf(key) === file).length;
  console.log('| held by | earlier | later | Δ | functions with machine code, earlier → later, of those met |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [file, sizes] of [...byFile].sort((a, b) => b[1].later - b[1].earlier - (a[1].later - a[1].earlier))) {
    const functions = functionsByFile.has(file) ? `${withCode(earlier, file)} → ${withCode(later, file)} of ${functionsByFile.get(file)}` : '';
    console.log(`| ${file} | ${kib(sizes.earlier)} | ${kib(sizes.later)} | ${kib(sizes.later - sizes.earlier)} | ${functions} |`);
  }
  const functionsIn = (map: Map<string, MachineCode>) => [...map].filter(([key]) => key.includes(' @ '));
  const most = functionsIn(later).reduce((m, [, code]) => Math.max(m, code.count), 0);
  const shared = (map: Map<string, MachineCode>) => map.get('(shared)')?.count ?? 0;
  console.log(
    `\nfunctions run as machine code: ${functionsIn(earlier).length} → ${functionsIn(later).length} with a closure, ` +
      `${shared(earlier)} → ${shared(later)} baseline code held by the function alone; ` +
      `the most code objects held by one function: ${most}\n`,
  );
  console.log('| function | Δ size | later size | later code objects |');
  console.log('|---|---:|---:|---:|');
  const rows = [...new Set([...earlier.keys(), ...later.keys()])]
    .map((key) => ({ key, delta: (later.get(key)?.bytes ?? 0) - (earlier.get(key)?.bytes ?? 0), later: later.get(key) ?? { count: 0, bytes: 0 } }))
    .sort((a, b) => b.delta - a.delta)
    .slice(0, rowsToShow);
  for (const r of rows) console.log(`| ${r.key} | ${kib(r.delta)} | ${kib(r.later.bytes)} | ${r.later.count} |`);
}

function main(): void {
  if (process.argv[2] === '--series') {
    const [folder, soakJson] = process.argv.slice(3);
    if (!folder) throw new Error('usage: tsx bench/heap-diff.ts --series <folder> [soak.json]');
    series(folder, soakJson);
    return;
  }
  if (process.argv[2] === '--jit') {
    const [earlierPath, laterPath, rowsArg] = process.argv.slice(3);
    if (!earlierPath || !laterPath) throw new Error('usage: tsx bench/heap-diff.ts --jit <earlier.heapsnapshot> <later.heapsnapshot> [rows]');
    jit(earlierPath, laterPath, Number(rowsArg) || 20);
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
