/**
 * End-of-turn benchmark (not a test): `npm run bench:end-of-turn` (after `npm run build`).
 *
 * Material: LibriSpeech sentences from ../shared/audio with 0.6–2 s of silence inserted
 * at the quietest gap near the middle of the sentence (an inner pause: the sentence is not
 * over), and short complete utterances. All clips are joined into one recording, 3.5 s of
 * silence between clips, played as the fake microphone into one built
 * `<voice-agent end-of-turn="smart-turn" silence-ms="500" debug asr-model="none">`, so the
 * models load once and the run takes about as long as the audio.
 *
 * Both policies, same run, same audio, same Silero probabilities:
 *
 * - Smart Turn: the element's own `voice-speech-end` events (live, with the model's real
 *   latency on this machine).
 * - silence-only (500 ms): the per-frame probabilities the element reports in `debug`
 *   mode replayed through the same SpeechSegmenter with SilenceEndOfTurnPolicy(500). Its
 *   end time is when the frame that closed the turn had been scored (no event-dispatch
 *   latency: in its favour).
 *
 * Figures: end-of-turn delay at true ends (last voiced frame → turn end; for Smart Turn
 * also `voice-speech-end`'s `endOfTurnDelayMs`), premature cuts (a turn ending before the
 * sentence does; "at the pause" = the one we inserted), Smart Turn's per-call cost
 * (features + model inside its worker, and the round trip seen by the VAD worker), and a
 * what-if over the long limit using the live verdicts.
 *
 * Output: a table on stdout and bench/results/end-of-turn.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concatPcm } from '../src/audio/pcm.ts';
import { DEFAULT_TURN_DETECTION } from '../src/platform/options.ts';
import { quantile } from '../src/platform/stats.ts';
import { SilenceEndOfTurnPolicy } from '../src/turns/end-of-turn.ts';
import { SMART_TURN_COMPLETE_SILENCE_MS, SMART_TURN_INCOMPLETE_SILENCE_MS } from '../src/turns/semantic-end-of-turn.ts';
import { SpeechSegmenter } from '../src/turns/speech-segmenter.ts';
import { openAgentPage, recordedEvents } from '../tests/e2e/support/browser.ts';
import { quietestGap, speechSpan } from '../tests/e2e/support/inserted-pause.ts';
import { AUDIO_DIR, SCRATCH_DIR, readWav, silence, writeWav } from '../tests/e2e/support/wav.ts';
import { startPreview } from './preview.ts';

const PORT = Number(process.env.BENCH_PORT) || 4191;
const RATE = 16_000;
const FRAME_MS = 32;
const GAP_S = 3.5;
const LEAD_S = 1;
const PAUSES_S = [0.6, 0.9, 1.2, 1.5, 2.0];
const BASELINE_SILENCE_MS = 500;
const REFERENCE_VOICED = DEFAULT_TURN_DETECTION.speechThreshold;
/** Complete utterances without an inserted pause. */
const COMPLETE = [
  'english-other/en_cmuarctic_aew_a0001.wav',
  'english-other/en_cmuarctic_aew_a0003.wav',
  'english-other/en_cmuarctic_axb_a0004.wav',
  'english-other/en_cmuarctic_axb_a0005.wav',
  'english-other/en_goforward.wav',
  'english-other/en_librivox_sense_and_sensibility_0880.wav',
  'librispeech/test-clean/ls_test-clean_4507-16021-0012.wav',
  'librispeech/test-other/ls_test-other_1688-142285-0002.wav',
];

interface Clip {
  readonly name: string;
  readonly kind: 'inner-pause' | 'complete';
  /** Seconds in the joined recording. */
  readonly startS: number;
  readonly endS: number;
  readonly speechEndS: number;
  readonly pause?: { readonly startS: number; readonly endS: number };
}

interface FrameRecord {
  index: number;
  probability: number;
  at: number;
  endOfTurn?: { probability: number; complete: boolean; featuresMs: number; inferenceMs: number; roundTripMs: number };
}

interface TurnEnd {
  /** Stream ms of the turn's end and of its last speech frame. */
  readonly endMs: number;
  readonly lastSpeechMs: number;
  /** Last voiced frame → end, wall clock, ms. */
  readonly delayMs: number;
  /** `voice-speech-end`'s own figure (Smart Turn only). */
  readonly eventDelayMs?: number;
}

function innerPauseSources(): string[] {
  const manifest = readFileSync(join(AUDIO_DIR, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return manifest
    .map((line) => line.split('\t'))
    .filter((cols) => cols[0]!.startsWith('ls_') && Number(cols[4]) >= 2.5 && Number(cols[4]) <= 10)
    .map((cols) => cols[3]!)
    .filter((file) => !COMPLETE.includes(file))
    .sort();
}

function buildRecording(): { path: string; clips: Clip[]; seconds: number } {
  const parts: Float32Array[] = [silence(LEAD_S, RATE)];
  const clips: Clip[] = [];
  let at = LEAD_S;
  const add = (name: string, kind: Clip['kind'], samples: Float32Array, pause?: { startS: number; endS: number }) => {
    const [, speechEnd] = speechSpan(samples, RATE);
    clips.push({
      name,
      kind,
      startS: at,
      endS: at + samples.length / RATE + GAP_S,
      speechEndS: at + speechEnd / RATE,
      ...(pause ? { pause: { startS: at + pause.startS, endS: at + pause.endS } } : {}),
    });
    parts.push(samples, silence(GAP_S, RATE));
    at += samples.length / RATE + GAP_S;
  };
  innerPauseSources().forEach((file, i) => {
    const source = readWav(join(AUDIO_DIR, file)).samples;
    const cut = quietestGap(source, RATE);
    const pauseS = PAUSES_S[i % PAUSES_S.length]!;
    const samples = concatPcm([source.subarray(0, cut), silence(pauseS, RATE), source.subarray(cut)]);
    add(file.split('/').pop()!.replace(/\.wav$/, ''), 'inner-pause', samples, { startS: cut / RATE, endS: cut / RATE + pauseS });
  });
  for (const file of COMPLETE) add(file.split('/').pop()!.replace(/\.wav$/, ''), 'complete', readWav(join(AUDIO_DIR, file)).samples);
  const samples = concatPcm(parts);
  const path = writeWav(join(SCRATCH_DIR, 'bench-end-of-turn.wav'), { sampleRateHz: RATE, samples });
  return { path, clips, seconds: samples.length / RATE };
}

/** Wall time of the last frame with P ≥ the reference threshold at or before stream ms `endMs`. */
function voicedBefore(frames: readonly FrameRecord[], endMs: number): FrameRecord | undefined {
  const last = Math.round(endMs / FRAME_MS) - 1;
  for (let i = Math.min(last, frames.length - 1); i >= 0; i--) if (frames[i]!.probability >= REFERENCE_VOICED) return frames[i];
  return undefined;
}

/** The frame records replayed through the segmenter with the silence-only policy. */
async function silenceOnlyEnds(frames: readonly FrameRecord[]): Promise<TurnEnd[]> {
  const segmenter = new SpeechSegmenter(
    { ...DEFAULT_TURN_DETECTION, silenceMs: BASELINE_SILENCE_MS, frameSamples: 512, sampleRateHz: RATE },
    new SilenceEndOfTurnPolicy(BASELINE_SILENCE_MS),
  );
  const ends: TurnEnd[] = [];
  const empty = new Float32Array(512);
  for (const frame of frames) {
    for (const event of await segmenter.push(empty, frame.probability)) {
      if (event.type !== 'speech-end') continue;
      const voiced = voicedBefore(frames, event.endMs);
      ends.push({ endMs: event.endMs, lastSpeechMs: event.lastSpeechMs, delayMs: voiced ? frame.at - voiced.at : NaN });
    }
  }
  return ends;
}

/**
 * Per clip (one sentence each): every turn but the last is a premature cut; "at the pause"
 * when its last speech lies just before the inserted pause. The last turn's end is the
 * true end (its delay is the end-of-turn delay).
 */
function score(clips: readonly Clip[], ends: readonly TurnEnd[]) {
  return clips.map((clip) => {
    const mine = ends.filter((e) => e.endMs / 1000 >= clip.startS && e.endMs / 1000 < clip.endS);
    const premature = mine.slice(0, -1);
    const atPause = clip.pause
      ? premature.filter((e) => e.lastSpeechMs / 1000 > clip.pause!.startS - 0.6 && e.lastSpeechMs / 1000 <= clip.pause!.startS + 0.2)
      : [];
    const final = mine.at(-1);
    return { clip: clip.name, kind: clip.kind, turns: mine.length, premature: premature.length, atPause: atPause.length, final };
  });
}

async function main() {
  const { path, clips, seconds } = buildRecording();
  process.stderr.write(`${clips.length} clips, ${seconds.toFixed(0)} s of audio\n`);
  const server = await startPreview(PORT);
  let frames: FrameRecord[] = [];
  let speechEnds: { wall: number; detail: Record<string, unknown> }[] = [];
  let isolated = false;
  let errors: unknown[] = [];
  try {
    const opened = await openAgentPage({
      micWav: path,
      origin: server.origin,
      body: '<voice-agent model-base-url="/models" asr-model="none" end-of-turn="smart-turn" silence-ms="500" debug></voice-agent>',
    });
    try {
      const { page } = opened;
      // Load first, then open the microphone: the recording starts playing when it opens.
      await page.evaluate(() => document.querySelector('voice-agent')!.preload());
      await page.evaluate(() => document.querySelector('voice-agent')!.start());
      isolated = await page.evaluate(() => crossOriginIsolated);
      await page.waitForTimeout((seconds + 1) * 1000);
      frames = await page.evaluate(() => (window as unknown as { __vadFrames: FrameRecord[] }).__vadFrames);
      speechEnds = await recordedEvents(page, 'voice-speech-end');
      errors = (await recordedEvents(page, 'voice-error')).map((e) => e.detail);
    } finally {
      await opened.close();
    }
  } finally {
    await server.close();
  }

  const smartEnds: TurnEnd[] = speechEnds.map((event) => {
    const endMs = Number(event.detail.endMs);
    const voiced = voicedBefore(frames, endMs);
    const eventDelayMs = Number(event.detail.endOfTurnDelayMs);
    return {
      endMs,
      lastSpeechMs: voiced ? voiced.index * FRAME_MS + FRAME_MS : endMs - eventDelayMs,
      delayMs: voiced ? event.wall - voiced.at : eventDelayMs,
      eventDelayMs,
    };
  });
  const baselineEnds = await silenceOnlyEnds(frames);
  const smart = score(clips, smartEnds);
  const baseline = score(clips, baselineEnds);

  // Verdicts per inner pause and per true end, for the what-if over the long limit.
  const verdictFrames = frames.filter((f) => f.endOfTurn);
  const calls = verdictFrames.map((f) => f.endOfTurn!);

  const fmt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(0));
  const header = ['clip', 'kind', 'turns ST', 'turns sil', 'cut ST', 'cut sil', 'EOT ms ST', 'EOT ms sil'];
  const rows = clips.map((clip, i) => [
    clip.name + (clip.pause ? ` (+${(clip.pause.endS - clip.pause.startS).toFixed(1)} s)` : ''),
    clip.kind,
    String(smart[i]!.turns),
    String(baseline[i]!.turns),
    String(smart[i]!.premature),
    String(baseline[i]!.premature),
    fmt(smart[i]!.final?.delayMs),
    fmt(baseline[i]!.final?.delayMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));

  const delays = (scored: typeof smart) => scored.map((s) => s.final?.delayMs).filter((d): d is number => d !== undefined && Number.isFinite(d));
  const eventDelays = smart.map((s) => s.final?.eventDelayMs).filter((d): d is number => d !== undefined && Number.isFinite(d));
  const inner = clips.filter((c) => c.kind === 'inner-pause').length;
  const sum = (scored: typeof smart, key: 'premature' | 'atPause') => scored.reduce((n, s) => n + s[key], 0);
  const missedEnds = (scored: typeof smart) => scored.filter((s) => !s.final).length;
  const summary = {
    date: new Date().toISOString(),
    clips: { innerPause: inner, complete: clips.length - inner, audioSeconds: seconds },
    crossOriginIsolated: isolated,
    errors,
    smartTurn: {
      completeSilenceMs: SMART_TURN_COMPLETE_SILENCE_MS,
      incompleteSilenceMs: SMART_TURN_INCOMPLETE_SILENCE_MS,
      endOfTurnDelayMs: { p50: quantile(delays(smart), 0.5), p90: quantile(delays(smart), 0.9), ends: delays(smart).length },
      eventEndOfTurnDelayMs: { p50: quantile(eventDelays, 0.5), p90: quantile(eventDelays, 0.9) },
      prematureCuts: sum(smart, 'premature'),
      cutsAtInsertedPause: sum(smart, 'atPause'),
      truesEndsWithoutTurnEnd: missedEnds(smart),
    },
    silenceOnly500: {
      endOfTurnDelayMs: { p50: quantile(delays(baseline), 0.5), p90: quantile(delays(baseline), 0.9), ends: delays(baseline).length },
      prematureCuts: sum(baseline, 'premature'),
      cutsAtInsertedPause: sum(baseline, 'atPause'),
      truesEndsWithoutTurnEnd: missedEnds(baseline),
    },
    smartTurnCallMs: {
      calls: calls.length,
      modelAndFeatures: {
        p50: quantile(calls.map((c) => c.featuresMs + c.inferenceMs), 0.5),
        p90: quantile(calls.map((c) => c.featuresMs + c.inferenceMs), 0.9),
      },
      features: { p50: quantile(calls.map((c) => c.featuresMs), 0.5) },
      roundTrip: { p50: quantile(calls.map((c) => c.roundTripMs), 0.5), p90: quantile(calls.map((c) => c.roundTripMs), 0.9) },
    },
  };
  const s = summary.smartTurn;
  const b = summary.silenceOnly500;
  const c = summary.smartTurnCallMs;
  console.log('');
  console.log(`${inner} clips with an inner pause (0.6–2 s), ${clips.length - inner} complete utterances; ${seconds.toFixed(0)} s of audio; page cross-origin isolated: ${isolated}`);
  console.log(
    `End-of-turn delay at true ends (last voiced frame → turn end): Smart Turn p50 ${fmt(s.endOfTurnDelayMs.p50)} / p90 ${fmt(s.endOfTurnDelayMs.p90)} ms ` +
      `(voice-speech-end endOfTurnDelayMs p50 ${fmt(s.eventEndOfTurnDelayMs.p50)} / p90 ${fmt(s.eventEndOfTurnDelayMs.p90)}); ` +
      `silence-only 500 ms p50 ${fmt(b.endOfTurnDelayMs.p50)} / p90 ${fmt(b.endOfTurnDelayMs.p90)} ms`,
  );
  console.log(
    `Premature cuts (turn ended before the sentence did): Smart Turn ${s.prematureCuts} (${s.cutsAtInsertedPause} at the inserted pause); ` +
      `silence-only ${b.prematureCuts} (${b.cutsAtInsertedPause} at the inserted pause)`,
  );
  console.log(
    `Smart Turn per call (WASM, 1 thread): features + model p50 ${fmt(c.modelAndFeatures.p50)} / p90 ${fmt(c.modelAndFeatures.p90)} ms ` +
      `(features p50 ${fmt(c.features.p50)} ms); round trip from the VAD worker p50 ${fmt(c.roundTrip.p50)} / p90 ${fmt(c.roundTrip.p90)} ms over ${c.calls} calls`,
  );
  const goalDelay = s.endOfTurnDelayMs.p50 <= 350;
  const goalCuts = s.prematureCuts * 4 <= b.prematureCuts;
  console.log(`Goal: p50 ≤ 350 ms → ${goalDelay ? 'met' : 'NOT met'}; cuts ≤ ¼ of silence-only's → ${goalCuts ? 'met' : 'NOT met'}`);
  if (errors.length) console.log(`voice-error events: ${JSON.stringify(errors)}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/end-of-turn.json',
    JSON.stringify(
      {
        summary,
        clips: clips.map((clip, i) => ({ ...clip, smartTurn: smart[i], silenceOnly500: baseline[i] })),
        verdicts: verdictFrames.map((f) => ({ streamMs: f.index * FRAME_MS, ...f.endOfTurn })),
      },
      null,
      2,
    ),
  );
  console.log('\nwrote bench/results/end-of-turn.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
