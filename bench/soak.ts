/**
 * Soak benchmark (not a test): `npm run bench:soak` (after `npm run build`);
 * `SOAK_MINUTES` sets the length (default 30). `SOAK_HEAP_SNAPSHOTS=<folder>` (an empty one) also saves a heap
 * snapshot of the page at every sample, and the report then splits the main JS heap's growth
 * into the script's data and V8's compiled code (bench/heap-diff.ts, which also compares two).
 *
 * The built `<voice-agent>` in one long-lived page hears real spoken questions, some of them
 * barge-ins, with an LLM 500, an LLM stall and the microphone going away sprinkled in (the
 * driver: tests/e2e/support/soak.ts, shared with the 3-minute tests/e2e/soak.spec.ts).
 *
 * Reported: turns spoken vs heard and answered (lost turns), the WER of what was heard
 * (references from ../shared/audio/MANIFEST.tsv) and the voice-to-voice p50
 * (`voice-metrics`) in the first vs the last 5 minutes (first vs last third for runs under
 * 15 minutes), memory and AudioContext / worker counts sampled every ~30 s and their
 * growth after warm-up (and the main heap's over the run's second half: still growing late?),
 * and errors by code. Output: a table on stdout and
 * bench/results/soak.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { LlmServer } from '../tests/e2e/support/llm-server.ts';
import { FAULT_CODES, runSoak } from '../tests/e2e/support/soak.ts';
import { comparisonWindows, growthAfterWarmUp, growthOverSecondHalf, p50Between, pooledWer } from '../tests/e2e/support/soak-report.ts';
import { heapParts } from './heap-diff.ts';
import { startPreview } from './preview.ts';

const PORT = 4198;
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);

async function main() {
  if (!(MINUTES > 0)) throw new Error(`SOAK_MINUTES must be a positive number (got ${process.env.SOAK_MINUTES})`);
  const llm = new LlmServer();
  await llm.start();
  const server = await startPreview(PORT);
  try {
    process.stderr.write(`… soak for ${MINUTES} minutes\n`);
    const run = await runSoak({
      origin: server.origin,
      llm,
      durationMs: MINUTES * 60_000,
      log: (line) => process.stderr.write(`… ${line}\n`),
      ...(process.env.SOAK_HEAP_SNAPSHOTS ? { heapSnapshotDir: process.env.SOAK_HEAP_SNAPSHOTS } : {}),
    });
    const windows = comparisonWindows(run.durationMs);
    const since = (wall: number) => wall - run.startedAtWall;
    const early = run.turns.filter((t) => since(t.saidAt) < windows.earlyEndMs);
    const late = run.turns.filter((t) => since(t.saidAt) >= windows.lateStartMs);
    const v2v = run.metrics.map((m) => ({ at: m.at, value: m.voiceToVoiceMs }));
    const lost = run.turns.filter((t) => !t.heard || !t.answered);
    const expected = new Set(run.faults.map((f) => FAULT_CODES[f.fault]));
    const errorsByCode: Record<string, number> = {};
    for (const e of run.errors) errorsByCode[e.code] = (errorsByCode[e.code] ?? 0) + 1;
    const growthOf = (series: { at: number; value: number }[]) =>
      growthAfterWarmUp(series, run.warmUpEndsAt, windows.lateStartMs, windows.earlyEndMs);
    const growth = (pick: (s: (typeof run.samples)[number]) => number) =>
      growthOf(run.samples.map((s) => ({ at: s.at, value: pick(s) })));
    const heapSplit = process.env.SOAK_HEAP_SNAPSHOTS ? heapParts(process.env.SOAK_HEAP_SNAPSHOTS) : null;
    const summary = {
      minutes: run.durationMs / 60_000,
      windows: windows.label,
      spoken: run.turns.length,
      bargeIns: run.turns.filter((t) => t.bargeIn).length,
      heard: run.turns.filter((t) => t.heard).length,
      answered: run.turns.filter((t) => t.answered).length,
      lost: lost.length,
      faults: run.faults.map((f) => f.fault),
      wer: { early: pooledWer(early), late: pooledWer(late), all: pooledWer(run.turns) },
      voiceToVoiceP50Ms: {
        early: p50Between(v2v, 0, windows.earlyEndMs),
        late: p50Between(v2v, windows.lateStartMs, Infinity),
      },
      warmUpEndsAtS: run.warmUpEndsAt / 1000,
      growthAfterWarmUp: {
        mainHeap: growth((s) => s.mainHeapBytes),
        pageWithWorkers: growth((s) => s.pageMemoryBytes),
        browserPss: growth((s) => s.browserPssBytes),
        audioContexts: growth((s) => s.audioContexts),
        workers: growth((s) => s.workers),
        // From the heap snapshots, when taken: what a leak of ours would grow vs what the JIT does.
        ...(heapSplit
          ? {
              scriptData: growthOf(heapSplit.map((p) => ({ at: p.at, value: p.data }))),
              compiledCode: growthOf(heapSplit.map((p) => ({ at: p.at, value: p.code }))),
            }
          : {}),
      },
      // Is it still growing late in the run, whatever the warm-up? (The JIT warms up for tens of minutes.)
      growthOverSecondHalf: {
        mainHeap: growthOverSecondHalf(run.samples.map((s) => ({ at: s.at, value: s.mainHeapBytes })), run.durationMs),
        ...(heapSplit
          ? {
              scriptData: growthOverSecondHalf(heapSplit.map((p) => ({ at: p.at, value: p.data })), run.durationMs),
              compiledCode: growthOverSecondHalf(heapSplit.map((p) => ({ at: p.at, value: p.code })), run.durationMs),
            }
          : {}),
      },
      errorsByCode,
      unexpectedErrors: run.errors.filter((e) => !expected.has(e.code)).map((e) => e.code),
    };

    const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : 'n/a');
    const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a');
    const mb = (x: number) => (Number.isFinite(x) ? `${(x / 2 ** 20).toFixed(1)} MiB` : 'n/a');
    console.log(`Soak: ${summary.minutes.toFixed(1)} minutes, ${summary.windows}.\n`);
    console.log('| | |');
    console.log('|---|---|');
    console.log(`| turns spoken (barge-ins) | ${summary.spoken} (${summary.bargeIns}) |`);
    console.log(`| heard / answered / lost | ${summary.heard} / ${summary.answered} / ${summary.lost} |`);
    console.log(`| faults injected | ${summary.faults.join(', ') || 'none'} |`);
    console.log(`| WER early / late | ${pct(summary.wer.early)} / ${pct(summary.wer.late)} |`);
    console.log(`| voice-to-voice p50 early / late | ${ms(summary.voiceToVoiceP50Ms.early)} / ${ms(summary.voiceToVoiceP50Ms.late)} |`);
    const g = summary.growthAfterWarmUp;
    console.log(`| growth after warm-up (${summary.warmUpEndsAtS.toFixed(0)} s): main JS heap | ${pct(g.mainHeap)} |`);
    if (g.scriptData !== undefined) {
      console.log(`| … of it, script data / compiled code (heap snapshots) | ${pct(g.scriptData)} / ${pct(g.compiledCode!)} |`);
    }
    const h = summary.growthOverSecondHalf;
    console.log(
      `| growth over the second half: main JS heap${h.scriptData === undefined ? '' : ' (script data / compiled code)'} | ` +
        `${pct(h.mainHeap)}${h.scriptData === undefined ? '' : ` (${pct(h.scriptData)} / ${pct(h.compiledCode!)})`} |`,
    );
    console.log(`| … page + workers (measureUserAgentSpecificMemory) | ${pct(g.pageWithWorkers)} |`);
    console.log(`| … browser processes' PSS | ${pct(g.browserPss)} |`);
    console.log(`| … AudioContexts / workers | ${pct(g.audioContexts)} / ${pct(g.workers)} |`);
    console.log(`| errors by code | ${Object.entries(errorsByCode).map(([c, n]) => `${c} × ${n}`).join(', ') || 'none'} |`);
    console.log(`| unexpected errors | ${summary.unexpectedErrors.join(', ') || 'none'} |`);
    console.log('\n| at | main JS heap | page + workers | browser PSS | AudioContexts | workers | mic tracks |');
    console.log('|---|---|---|---|---|---|---|');
    for (const s of run.samples) {
      console.log(
        `| ${(s.at / 1000).toFixed(0)} s | ${mb(s.mainHeapBytes)} | ${mb(s.pageMemoryBytes)} | ${mb(s.browserPssBytes)} | ${s.audioContexts} | ${s.workers} | ${s.liveTracks} |`,
      );
    }
    if (lost.length) console.log(`\nLost turns: ${JSON.stringify(lost.map((t) => ({ clip: t.clip, heard: t.heard, answered: t.answered })))}`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/soak.json', JSON.stringify({ date: new Date().toISOString(), summary, run }, null, 2));
    console.log('\nwrote bench/results/soak.json');
  } finally {
    await server.close();
    await llm.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
