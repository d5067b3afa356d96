/**
 * Speech recognition benchmark (not a test): `npm run bench:asr` (after `npm run build`).
 *
 * Clip sets (MANIFEST.tsv has their reference transcripts): the 32 LibriSpeech utterances
 * and the 20 short English clips (`english-other`) in ../shared/audio. Recognizers, all q8
 * on WASM from ../shared/models: the element's default for English (Moonshine tiny, no
 * `asr-model`; again with `end-of-turn="smart-turn"`), Whisper tiny.en, and multilingual
 * Whisper base (`language="en"`).
 * `BENCH_ASR_MODELS=moonshine,tiny.en` and `BENCH_ASR_SETS=short` pick a subset.
 *
 * - ours: the built `<voice-agent>` hears all clips of a set in one live run per
 *   recognizer (one fake-mic WAV, clips 2.5 s apart, default turn-taking). Each turn's
 *   final transcript is assigned to the clip it was spoken in. Latency per turn = final
 *   transcript event − the last voiced frame (speech-end time − its end-of-turn delay), on
 *   the wall clock: the end-of-turn wait (`silence-ms`, 480) is inside it.
 * - baseline, same run: the bare transformers.js pipeline (bench/asr-baseline/) with
 *   Whisper tiny.en, transformers.js defaults otherwise, called once per whole clip in its
 *   own page with no microphone. Its latency is its inference time: it is handed the end
 *   of speech for free, with no end-of-turn wait at all.
 * - WER: pooled over clips (total word errors / total reference words), normalized (case,
 *   punctuation, numbers as words, "Mr." = "mister").
 * - RTF: model time / audio time. Ours counts every call (partials included): that is the
 *   CPU the element really spends.
 *
 * Output: a table on stdout and bench/results/asr.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, preview, type PluginOption } from 'vite';
import { launchBrowser, openAgentPage, recordedEvents, agentMarkup } from '../tests/e2e/support/browser.ts';
import { AUDIO_DIR, SCRATCH_DIR, durationSeconds, joinClips, readWav, silence, writeWav, type Pcm } from '../tests/e2e/support/wav.ts';
import { wordErrorRate } from '../tests/e2e/support/wer.ts';
import { quantile } from '../src/platform/stats.ts';
import { startPreview } from './preview.ts';

const PORT = 4192;
const BASELINE_PORT = 4193;
const GAP_SECONDS = 2.5;
/** The baseline's model (whole clips through the bare pipeline). */
const MODEL = 'Xenova/whisper-tiny.en';
const DTYPE = 'q8';

/** The recognizers the element is run with: a name, and the attributes that select it. */
const RECOGNIZERS = [
  { name: 'moonshine', label: 'Moonshine tiny (default)', attributes: 'asr-model="" asr-dtype=""' },
  // The same recognizer with the semantic end-of-turn: a finished turn ends 160 ms into the
  // pause (plus Smart Turn's time) instead of after the 480 ms silence.
  { name: 'moonshine-smart-turn', label: 'Moonshine tiny, end-of-turn="smart-turn"', attributes: 'asr-model="" asr-dtype="" end-of-turn="smart-turn"' },
  // The default with a shorter end-of-turn wait: the final is ready when the turn ends, so
  // the wait is most of the latency; this shows what a shorter one buys and costs.
  { name: 'moonshine-400', label: 'Moonshine tiny, silence-ms="400"', attributes: 'asr-model="" asr-dtype="" silence-ms="400"' },
  // The default until 2026-12-06: one 32 ms VAD frame more (16 frames, 512 ms, into the pause).
  { name: 'moonshine-500', label: 'Moonshine tiny, silence-ms="500"', attributes: 'asr-model="" asr-dtype="" silence-ms="500"' },
  { name: 'tiny.en', label: 'Whisper tiny.en', attributes: 'asr-model="Xenova/whisper-tiny.en"' },
  { name: 'base', label: 'Whisper base', attributes: 'asr-model="Xenova/whisper-base"' },
] as const;

const CLIP_SETS = [
  { name: 'librispeech', label: 'LibriSpeech', category: (c: string) => c.startsWith('librispeech') },
  { name: 'short', label: 'short English', category: (c: string) => c === 'english-other' },
] as const;

function picked<T extends { name: string }>(all: readonly T[], variable: string): T[] {
  const wanted = process.env[variable]?.split(',').map((n) => n.trim());
  return wanted ? all.filter((item) => wanted.includes(item.name)) : [...all];
}

interface Clip {
  readonly id: string;
  readonly path: string;
  readonly reference: string;
  readonly pcm: Pcm;
}

function manifestClips(category: (name: string) => boolean): Clip[] {
  const lines = readFileSync(join(AUDIO_DIR, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .map((line) => line.split('\t'))
    .filter((cells) => category(cells[1] ?? ''))
    .map((cells) => ({ id: cells[0]!, path: cells[3]!, reference: cells[5]!, pcm: readWav(join(AUDIO_DIR, cells[3]!)) }));
}

async function runOurs(clips: readonly Clip[], origin: string, attributes: string, name: string) {
  const rate = clips[0]!.pcm.sampleRateHz;
  const parts: Pcm[] = [{ sampleRateHz: rate, samples: silence(1, rate) }];
  const spans: { from: number; to: number }[] = [];
  let t = 1;
  for (const clip of clips) {
    spans.push({ from: t, to: t + durationSeconds(clip.pcm) });
    t += durationSeconds(clip.pcm) + GAP_SECONDS;
    parts.push(clip.pcm, { sampleRateHz: rate, samples: silence(GAP_SECONDS, rate) });
  }
  const joined = joinClips(parts);
  const wav = writeWav(join(SCRATCH_DIR, `bench-asr-${name}.wav`), joined);
  const opened = await openAgentPage({ micWav: wav, origin, body: agentMarkup(`debug ${attributes}`) });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    await page.waitForTimeout((durationSeconds(joined) + 1) * 1000);
    await page.waitForFunction(() => document.querySelector('voice-agent')!.state === 'listening', null, { timeout: 300_000 });
    const model = await page.evaluate(() => document.querySelector('voice-agent')!.capabilities?.model ?? '');
    const ends = await recordedEvents(page, 'voice-speech-end');
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final'] && e.detail['source'] === 'speech');
    const jobs = await page.evaluate(() =>
      (window as unknown as { __debug: { kind: string; inferenceMs: number; job: string; turnId: number }[] }).__debug.filter(
        (d) => d.kind === 'asr-job',
      ),
    );
    // Turns and finals pair up in order (one final per turn; an empty one is not dispatched).
    const texts: string[][] = clips.map(() => []);
    const latencies: number[] = [];
    let f = 0;
    for (const end of ends) {
      const startSeconds = Number(end.detail['startMs']) / 1000;
      const clipIndex = spans.findIndex((s) => startSeconds < s.to + GAP_SECONDS / 2);
      const final = finals[f];
      if (!final || final.at < end.at) continue;
      f++;
      texts[clipIndex === -1 ? clips.length - 1 : clipIndex]!.push(String(final.detail['text']));
      const lastVoiced = end.wall - Number(end.detail['endOfTurnDelayMs']);
      latencies.push(final.wall - lastVoiced);
    }
    const modelMs = jobs.reduce((n, j) => n + j.inferenceMs, 0);
    return {
      model,
      texts: texts.map((list) => list.join(' ')),
      latencies,
      turns: ends.length,
      calls: jobs.length,
      rtf: modelMs / 1000 / clips.reduce((n, c) => n + durationSeconds(c.pcm), 0),
    };
  } finally {
    await opened.close();
  }
}

async function runBaseline(clips: readonly Clip[], plugins: PluginOption[]) {
  const outDir = resolve('bench/results/.asr-baseline-dist');
  await build({
    configFile: false,
    root: resolve('bench/asr-baseline'),
    base: './',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0 },
  });
  const server = await preview({
    configFile: false,
    root: resolve('bench/asr-baseline'),
    plugins,
    build: { outDir },
    preview: { port: BASELINE_PORT, strictPort: true, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${BASELINE_PORT}/index.html`);
    await page.waitForFunction(() => document.title === 'ready');
    const loadMs = await page.evaluate(([m, d]) => (window as unknown as { loadBaseline(m: string, d: string): Promise<number> }).loadBaseline(m, d), [MODEL, DTYPE] as const);
    // One warm-up call, as the element warms its model up too.
    const run = (samples: number[]) =>
      page.evaluate((s) => (window as unknown as { transcribeBaseline(s: number[]): Promise<{ text: string; ms: number }> }).transcribeBaseline(s), samples);
    await run(Array.from(clips[0]!.pcm.samples.subarray(0, 8000)));
    const results: { text: string; ms: number }[] = [];
    for (const clip of clips) results.push(await run(Array.from(clip.pcm.samples)));
    return { loadMs, results };
  } finally {
    await browser.close();
    await server.close();
  }
}

interface SetResult {
  readonly set: string;
  readonly clips: number;
  readonly audioSeconds: number;
  readonly baseline: { wer: number; rtf: number; p50: number; p90: number };
  readonly recognizers: {
    name: string;
    model: string;
    wer: number;
    rtf: number;
    calls: number;
    turns: number;
    p50: number;
    p90: number;
    texts: string[];
    latencies: number[];
  }[];
  readonly baselineTexts: string[];
  readonly references: { id: string; reference: string; seconds: number }[];
}

function pooledWer(clips: readonly Clip[], texts: readonly string[]): number {
  let errors = 0;
  let words = 0;
  clips.forEach((clip, i) => {
    const r = wordErrorRate(clip.reference, texts[i] ?? '');
    errors += r.errors;
    words += r.words;
  });
  return errors / words;
}

async function main() {
  const viteConfig = (await import('../vite.config.ts')).default as { plugins?: PluginOption[] };
  const recognizers = picked(RECOGNIZERS, 'BENCH_ASR_MODELS');
  const results: SetResult[] = [];
  for (const set of picked(CLIP_SETS, 'BENCH_ASR_SETS')) {
    const clips = manifestClips(set.category);
    if (clips.length === 0) throw new Error(`No ${set.label} clips found in ${AUDIO_DIR}`);
    const audioSeconds = clips.reduce((n, c) => n + durationSeconds(c.pcm), 0);
    const ours: SetResult['recognizers'] = [];
    for (const recognizer of recognizers) {
      const server = await startPreview(PORT);
      try {
        process.stderr.write(`… ${set.label}: ${recognizer.label}, ${clips.length} clips, live, one fake-mic run\n`);
        const run = await runOurs(clips, server.origin, recognizer.attributes, `${set.name}-${recognizer.name}`);
        ours.push({
          name: recognizer.label,
          model: run.model,
          wer: pooledWer(clips, run.texts),
          rtf: run.rtf,
          calls: run.calls,
          turns: run.turns,
          p50: quantile(run.latencies, 0.5),
          p90: quantile(run.latencies, 0.9),
          texts: run.texts,
          latencies: run.latencies,
        });
      } finally {
        await server.close();
      }
    }
    process.stderr.write(`… ${set.label}: baseline, bare transformers.js pipeline per whole clip\n`);
    const baseline = await runBaseline(clips, viteConfig.plugins ?? []);
    const baselineMs = baseline.results.map((r) => r.ms);
    results.push({
      set: set.label,
      clips: clips.length,
      audioSeconds,
      baseline: {
        wer: pooledWer(clips, baseline.results.map((r) => r.text)),
        rtf: baselineMs.reduce((a, b) => a + b, 0) / 1000 / audioSeconds,
        p50: quantile(baselineMs, 0.5),
        p90: quantile(baselineMs, 0.9),
      },
      recognizers: ours,
      baselineTexts: baseline.results.map((r) => r.text),
      references: clips.map((clip) => ({ id: clip.id, reference: clip.reference, seconds: durationSeconds(clip.pcm) })),
    });
  }

  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  for (const result of results) {
    console.log(`\n${result.set}: ${result.clips} clips, ${result.audioSeconds.toFixed(0)} s of speech`);
    console.log('| | WER | last voiced frame → final, p50 / p90 | real-time factor (calls) |');
    console.log('|---|---|---|---|');
    for (const r of result.recognizers) {
      console.log(`| <voice-agent>, ${r.name} (${r.model}), live | ${pct(r.wer)} | ${ms(r.p50)} / ${ms(r.p90)} | ${r.rtf.toFixed(3)} (${r.calls}) |`);
    }
    const b = result.baseline;
    console.log(`| baseline: bare pipeline, ${MODEL}, whole clips (inference only) | ${pct(b.wer)} | ${ms(b.p50)} / ${ms(b.p90)} | ${b.rtf.toFixed(3)} (${result.clips}) |`);
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/asr.json',
    JSON.stringify({ date: new Date().toISOString(), baselineModel: MODEL, dtype: DTYPE, results }, null, 2),
  );
  console.log('\nwrote bench/results/asr.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
