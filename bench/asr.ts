/**
 * Speech recognition benchmark (not a test): `npm run bench:asr` (after `npm run build`).
 *
 * Clips: the 32 LibriSpeech utterances in ../shared/audio (MANIFEST.tsv has their
 * reference transcripts), Whisper tiny.en q8 on WASM from ../shared/models.
 *
 * - ours: the built `<voice-agent>` hears all clips in one live run (one fake-mic WAV,
 *   clips 2.5 s apart, default turn-taking). Each turn's final transcript is assigned to
 *   the clip it was spoken in. Latency per turn = final transcript event − the last voiced
 *   frame (speech-end time − its end-of-turn delay), on the wall clock.
 * - baseline, same run: the bare transformers.js pipeline (bench/asr-baseline/, same
 *   model and dtype, transformers.js defaults otherwise) called once per whole clip, in
 *   its own page with no microphone. Its latency is its inference time: it is handed the
 *   end of speech for free, with no end-of-turn wait at all.
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
const MODEL = 'Xenova/whisper-tiny.en';
const DTYPE = 'q8';

interface Clip {
  readonly id: string;
  readonly path: string;
  readonly reference: string;
  readonly pcm: Pcm;
}

function librispeechClips(): Clip[] {
  const lines = readFileSync(join(AUDIO_DIR, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .map((line) => line.split('\t'))
    .filter((cells) => cells[1]?.startsWith('librispeech'))
    .map((cells) => ({ id: cells[0]!, path: cells[3]!, reference: cells[5]!, pcm: readWav(join(AUDIO_DIR, cells[3]!)) }));
}

async function runOurs(clips: readonly Clip[], origin: string) {
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
  const wav = writeWav(join(SCRATCH_DIR, 'bench-asr-librispeech.wav'), joined);
  const opened = await openAgentPage({ micWav: wav, origin, body: agentMarkup('debug') });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    await page.waitForTimeout((durationSeconds(joined) + 1) * 1000);
    await page.waitForFunction(() => document.querySelector('voice-agent')!.state === 'listening', null, { timeout: 120_000 });
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

async function main() {
  const clips = librispeechClips();
  if (clips.length === 0) throw new Error(`No LibriSpeech clips found in ${AUDIO_DIR}`);
  const viteConfig = (await import('../vite.config.ts')).default as { plugins?: PluginOption[] };
  const server = await startPreview(PORT);
  let ours;
  try {
    process.stderr.write(`… ours: ${clips.length} clips, live, one fake-mic run\n`);
    ours = await runOurs(clips, server.origin);
  } finally {
    await server.close();
  }
  process.stderr.write('… baseline: bare transformers.js pipeline per whole clip\n');
  const baseline = await runBaseline(clips, viteConfig.plugins ?? []);

  const pooled = (texts: readonly string[]) => {
    let errors = 0;
    let words = 0;
    clips.forEach((clip, i) => {
      const r = wordErrorRate(clip.reference, texts[i] ?? '');
      errors += r.errors;
      words += r.words;
    });
    return errors / words;
  };
  const audioSeconds = clips.reduce((n, c) => n + durationSeconds(c.pcm), 0);
  const baselineMs = baseline.results.map((r) => r.ms);
  const summary = {
    clips: clips.length,
    audioSeconds,
    wer: { ours: pooled(ours.texts), baseline: pooled(baseline.results.map((r) => r.text)) },
    rtf: { ours: ours.rtf, baseline: baselineMs.reduce((a, b) => a + b, 0) / 1000 / audioSeconds },
    endOfSpeechToFinalMs: {
      ours: { p50: quantile(ours.latencies, 0.5), p90: quantile(ours.latencies, 0.9), turns: ours.latencies.length },
      baseline: { p50: quantile(baselineMs, 0.5), p90: quantile(baselineMs, 0.9), clips: baselineMs.length },
    },
    ourTurns: ours.turns,
    ourCalls: ours.calls,
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log('| | ours (<voice-agent>, live) | baseline (bare pipeline, whole clip) |');
  console.log('|---|---|---|');
  console.log(`| WER, ${clips.length} LibriSpeech clips | ${pct(summary.wer.ours)} | ${pct(summary.wer.baseline)} |`);
  console.log(`| real-time factor | ${summary.rtf.ours.toFixed(3)} (${ours.calls} calls) | ${summary.rtf.baseline.toFixed(3)} (${clips.length} calls) |`);
  console.log(
    `| end of speech → final, p50 / p90 | ${ms(summary.endOfSpeechToFinalMs.ours.p50)} / ${ms(summary.endOfSpeechToFinalMs.ours.p90)} | ${ms(summary.endOfSpeechToFinalMs.baseline.p50)} / ${ms(summary.endOfSpeechToFinalMs.baseline.p90)} |`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/asr.json',
    JSON.stringify(
      {
        date: new Date().toISOString(),
        model: MODEL,
        dtype: DTYPE,
        summary,
        clips: clips.map((clip, i) => ({
          id: clip.id,
          seconds: durationSeconds(clip.pcm),
          reference: clip.reference,
          ours: ours.texts[i],
          baseline: baseline.results[i]?.text,
          baselineMs: baseline.results[i]?.ms,
        })),
        ourLatenciesMs: ours.latencies,
      },
      null,
      2,
    ),
  );
  console.log('\nwrote bench/results/asr.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
