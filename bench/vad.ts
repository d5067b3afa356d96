/**
 * VAD / end-of-turn benchmark (not a test): `npm run bench:vad` (after `npm run build`).
 *
 * Each clip from ../shared/audio is played as the fake microphone of a fresh headless
 * Chromium into the built `<voice-agent debug>`. From one live run per clip we get:
 *
 * - ours: `voice-speech-end` events of the element with its default options;
 * - the baseline: the same live Silero probabilities (reported per frame by the element's
 *   `debug` mode) replayed through vad-web's own `FrameProcessor` with vad-web's default
 *   options (threshold 0.3/0.25, redemption 1400 ms, min speech 400 ms). Same audio, same
 *   model outputs, same frame arrival times: only the segmentation policy differs. Its
 *   end time is when the frame that closed its turn had been scored, so the baseline's
 *   figure omits any latency of its own event dispatch (in its favour).
 *
 * End-of-turn delay = end of turn − the last voiced frame before it, where "voiced" uses
 * one reference threshold (P ≥ 0.5) for both policies, both on the wall clock.
 * VAD cost = Silero inference time per 32 ms frame measured inside the VAD worker.
 *
 * Output: a table on stdout and bench/results/vad.json.
 */
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { openAgentPage, recordedEvents } from '../tests/e2e/support/browser.ts';
import { AUDIO_DIR, durationSeconds, paddedFixture } from '../tests/e2e/support/wav.ts';
import { quantile } from '../src/platform/stats.ts';
import { startPreview } from './preview.ts';

interface FrameRecord {
  index: number;
  probability: number;
  inferenceMs: number;
  at: number;
}

const REFERENCE_VOICED = 0.5;
const PORT = 4190;
const CLIPS = [
  'english-other/en_jfk_inaugural_1961.wav',
  'derived/long-pauses/pause_1221-135766-0001_gap2000ms.wav',
  'derived/long-pauses/pause_1272-128104-0000_mid_gap1500ms.wav',
  'derived/long-pauses/pause_1272-128104-0000_mid_gap3000ms.wav',
  'long-pauses/pause_voskjs_digits_with_silences.wav',
  'no-speech/nospeech_dishes_noise_0-20s.wav',
  'no-speech/nospeech_picovoice_empty.wav',
  'derived/noisy/noisy_1089-134686-0002_dishes_snr05dB.wav',
  'derived/noisy/noisy_1995-1837-0001_dishes_snr00dB.wav',
  'librispeech/test-clean/ls_test-clean_260-123286-0001.wav',
  'librispeech/test-clean/ls_test-clean_8455-210777-0068.wav',
  'librispeech/test-other/ls_test-other_1688-142285-0002.wav',
  'english-other/en_goforward.wav',
  'english-other/en_cmuarctic_aew_a0001.wav',
];

const require = createRequire(import.meta.url);
const { FrameProcessor, defaultFrameProcessorOptions } = require('@ricky0123/vad-web/dist/frame-processor.js') as {
  FrameProcessor: new (
    model: (frame: Float32Array) => Promise<{ isSpeech: number; notSpeech: number }>,
    reset: () => void,
    options: Record<string, unknown>,
    msPerFrame: number,
  ) => {
    resume(): void;
    process(frame: Float32Array, handle: (event: { msg: string }) => void): Promise<void>;
  };
  defaultFrameProcessorOptions: Record<string, unknown>;
};

/** Replays recorded probabilities through vad-web's FrameProcessor; returns turn-end times. */
async function vadWebDefaultTurnEnds(frames: readonly FrameRecord[]): Promise<number[]> {
  let current = 0;
  const processor = new FrameProcessor(
    async () => ({ isSpeech: current, notSpeech: 1 - current }),
    () => {},
    { ...defaultFrameProcessorOptions },
    32,
  );
  processor.resume();
  const ends: number[] = [];
  const dummy = new Float32Array(512);
  for (const frame of frames) {
    current = frame.probability;
    await processor.process(dummy, (event) => {
      if (event.msg === 'SPEECH_END') ends.push(frame.at);
    });
  }
  return ends;
}

function lastVoicedBefore(frames: readonly FrameRecord[], time: number): number | undefined {
  let last: number | undefined;
  for (const frame of frames) {
    if (frame.at > time) break;
    if (frame.probability >= REFERENCE_VOICED) last = frame.at;
  }
  return last;
}

function expectedCut(clip: string): string {
  const sidecar = join(AUDIO_DIR, clip.replace(/\.wav$/, '.json'));
  if (!existsSync(sidecar)) return '';
  const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as { inserted_pause?: number[]; pause_after_edit_s?: number[] };
  const pause = meta.inserted_pause ?? meta.pause_after_edit_s;
  return pause ? `${(pause[1]! - pause[0]!).toFixed(1)} s pause` : '';
}

async function runClip(clip: string, origin: string) {
  const fixture = paddedFixture(clip, 1, 2);
  const opened = await openAgentPage({ micWav: fixture.path, origin, body: '<voice-agent debug asr-model="none"></voice-agent>' });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    await page.waitForTimeout((durationSeconds(fixture.pcm) + 1.5) * 1000);
    const ends = await recordedEvents(page, 'voice-speech-end');
    const frames = await page.evaluate(() => (window as unknown as { __vadFrames: FrameRecord[] }).__vadFrames);
    const ourEnds = ends.map((e) => e.wall);
    const baselineEnds = await vadWebDefaultTurnEnds(frames);
    const delays = (list: number[]) =>
      list
        .map((end) => {
          const voiced = lastVoicedBefore(frames, end);
          return voiced === undefined ? undefined : end - voiced;
        })
        .filter((d): d is number => d !== undefined);
    return {
      clip,
      durationSeconds: durationSeconds(fixture.source),
      note: expectedCut(clip),
      frames: frames.length,
      inferenceMs: frames.map((f) => f.inferenceMs),
      probabilities: frames.map((f) => Math.round(f.probability * 1000) / 1000),
      ours: { turns: ourEnds.length, delaysMs: delays(ourEnds) },
      vadWebDefaults: { turns: baselineEnds.length, delaysMs: delays(baselineEnds) },
    };
  } finally {
    await opened.close();
  }
}

async function main() {
  const server = await startPreview(PORT);
  const { origin } = server;
  const results = [];
  try {
    for (const clip of CLIPS) {
      process.stderr.write(`… ${clip}\n`);
      results.push(await runClip(clip, origin));
    }
  } finally {
    await server.close();
  }

  const allInference = results.flatMap((r) => r.inferenceMs);
  const ourDelays = results.flatMap((r) => r.ours.delaysMs);
  const baseDelays = results.flatMap((r) => r.vadWebDefaults.delaysMs);
  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
  const rows = results.map((r) => [
    r.clip.split('/').pop()!.replace(/\.wav$/, ''),
    r.durationSeconds.toFixed(1),
    r.note,
    String(r.ours.turns),
    String(r.vadWebDefaults.turns),
    fmt(quantile(r.ours.delaysMs, 0.5)),
    fmt(quantile(r.vadWebDefaults.delaysMs, 0.5)),
    quantile(r.inferenceMs, 0.5).toFixed(2),
  ]);
  const header = ['clip', 'sec', 'note', 'turns', 'turns (vad-web)', 'EOT ms p50', 'EOT ms p50 (vad-web)', 'VAD ms/frame p50'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
  const summary = {
    vadMsPerFrame: { p50: quantile(allInference, 0.5), p90: quantile(allInference, 0.9), frames: allInference.length },
    endOfTurnDelayMs: {
      ours: { p50: quantile(ourDelays, 0.5), p90: quantile(ourDelays, 0.9), turns: ourDelays.length },
      vadWebDefaults: { p50: quantile(baseDelays, 0.5), p90: quantile(baseDelays, 0.9), turns: baseDelays.length },
    },
    longPauseTurns: {
      ours: results.filter((r) => r.note).reduce((n, r) => n + r.ours.turns, 0),
      vadWebDefaults: results.filter((r) => r.note).reduce((n, r) => n + r.vadWebDefaults.turns, 0),
    },
  };
  console.log('');
  console.log(
    `VAD cost per 32 ms frame: p50 ${summary.vadMsPerFrame.p50.toFixed(2)} ms, p90 ${summary.vadMsPerFrame.p90.toFixed(2)} ms over ${summary.vadMsPerFrame.frames} frames`,
  );
  console.log(
    `End-of-turn delay: ours p50 ${fmt(summary.endOfTurnDelayMs.ours.p50)} ms / p90 ${fmt(summary.endOfTurnDelayMs.ours.p90)} ms; ` +
      `vad-web defaults p50 ${fmt(summary.endOfTurnDelayMs.vadWebDefaults.p50)} ms / p90 ${fmt(summary.endOfTurnDelayMs.vadWebDefaults.p90)} ms ` +
      `(${(summary.endOfTurnDelayMs.vadWebDefaults.p50 / summary.endOfTurnDelayMs.ours.p50).toFixed(2)}× sooner)`,
  );
  console.log(
    `Turns on the mid-sentence long-pause clips (1 per clip = not cut): ours ${summary.longPauseTurns.ours}, vad-web defaults ${summary.longPauseTurns.vadWebDefaults}`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/vad-traces.json',
    JSON.stringify(Object.fromEntries(results.map((r) => [r.clip, r.probabilities]))),
  );
  const stripped = results.map(({ inferenceMs, probabilities: _, ...rest }) => ({
    ...rest,
    vadMsPerFrame: { p50: quantile(inferenceMs, 0.5), p90: quantile(inferenceMs, 0.9) },
  }));
  writeFileSync('bench/results/vad.json', JSON.stringify({ date: new Date().toISOString(), summary, clips: stripped }, null, 2));
  console.log('\nwrote bench/results/vad.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
