/**
 * Barge-in benchmark (not a test): `npm run bench:barge-in` (after `npm run build`).
 *
 * The built `<voice-agent>` answers a spoken question with a long scripted reply (instant
 * OpenAI-compatible server, real Silero, Whisper tiny.en and Piper); while it speaks, a
 * visitor utterance is played into its microphone (tests/e2e/support/mic-mix.ts), which
 * becomes the next question, answered at length and interrupted again — 10 times.
 *
 * Measured per interruption, from the moment the visitor's first word reaches the
 * element's input (its time in the mix + this rig's input latency, measured with a beep):
 *
 * - ours: until the agent's voice is silent (the `hold` decision + its 20 ms fade);
 * - baseline, same run: until the VAD confirms a turn (`voice-speech-start`, at
 *   `min-speech-ms` = 250 ms of speech) + a 25 ms fade — what stopping on "the VAD says the
 *   visitor started a turn" would give.
 *
 * Two sessions: a quiet room, and the agent's own voice mixed back at −12 dB (speakers,
 * no echo canceller), where the self-interruptions (holds with no visitor speech) are
 * counted too. Output: a table on stdout and bench/results/barge-in.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { voiceOnset } from '../tests/e2e/support/audio-analysis.ts';
import { agentMarkup, openAgentPage, recordedEvents } from '../tests/e2e/support/browser.ts';
import { LlmServer } from '../tests/e2e/support/llm-server.ts';
import { LEVEL_RECORDER_SCRIPT, measureInputLatency, micMixScript, sayIntoMic } from '../tests/e2e/support/mic-mix.ts';
import { AUDIO_DIR, paddedFixture, readWav } from '../tests/e2e/support/wav.ts';
import { HOLD_FADE_MS, INTERRUPT_FADE_MS } from '../src/speaking/playback-controller.ts';
import { quantile } from '../src/platform/stats.ts';
import { startPreview } from './preview.ts';

const PORT = 4196;
const REPLY =
  'Let me tell you about the harbour. Boats have come and gone here for three hundred years, ' +
  'carrying wool, timber and salt, and the old stone quay still shows the marks of their ropes. ' +
  'In summer the ferries leave every hour, and in winter twice a day when the weather allows.';
const INTERRUPTIONS = [
  'librispeech/test-clean/ls_test-clean_8455-210777-0068.wav',
  'librispeech/test-clean/ls_test-clean_4507-16021-0012.wav',
  'english-other/en_cmuarctic_axb_a0004.wav',
  'librispeech/test-clean/ls_test-clean_61-70968-0002.wav',
  'english-other/en_cmuarctic_aew_a0003.wav',
  'librispeech/test-other/ls_test-other_1688-142285-0002.wav',
  'english-other/en_librivox_sense_and_sensibility_0880.wav',
  'librispeech/test-clean/ls_test-clean_2830-3980-0043.wav',
  'english-other/en_cards_005.wav',
  'librispeech/test-other/ls_test-other_1998-15444-0007.wav',
];

interface Hold {
  outcome: string;
  decidedAt: number;
  onsetAt?: number;
}

const state = (page: Page) => page.evaluate(() => document.querySelector('voice-agent')!.state);

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

async function session(origin: string, echoGain: number) {
  const llm = new LlmServer();
  llm.defaultReply = { text: REPLY, tokenDelayMs: 20 };
  await llm.start();
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 240);
  const opened = await openAgentPage({
    micWav: path,
    origin,
    body: agentMarkup(`debug llm-url="${llm.url}"`),
    initScripts: [micMixScript({ echoGain, echoDelayMs: 40 }), LEVEL_RECORDER_SCRIPT],
    permissions: ['local-network-access'],
  });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    const spoken: { clip: string; onsetAt: number }[] = [];
    for (const [i, clip] of INTERRUPTIONS.entries()) {
      if (!(await until(async () => (await state(page)) === 'speaking', 60_000))) {
        const debug = await page.evaluate(() =>
          (window as unknown as { __debug: { kind: string }[] }).__debug.filter((d) => d.kind === 'barge-in' || d.kind === 'asr-job').slice(-12),
        );
        const states = (await recordedEvents(page, 'voice-state-change')).slice(-12).map((e) => e.detail['state']);
        const transcripts = (await recordedEvents(page, 'voice-transcript')).slice(-4).map((e) => e.detail);
        const all = await page.evaluate(() =>
          (window as unknown as { __debug: { kind: string; decidedAt: number; micRms?: number; outputRms?: number; expectedEchoRms?: number }[] }).__debug
            .filter((d) => d.kind === 'barge-in')
            .map((d) => [Math.round(d.decidedAt), d.micRms?.toFixed(3), d.outputRms?.toFixed(3), ((d.expectedEchoRms ?? 0) / (d.outputRms || 1)).toFixed(2)]),
        );
        console.error('SPOKEN', JSON.stringify(spoken.map((x) => Math.round(x.onsetAt))), 'ALL', JSON.stringify(all.slice(0, 60)));
        throw new Error(`no answer before interruption ${i + 1}: ${JSON.stringify({ states, transcripts, debug })}`);
      }
      await page.waitForTimeout(1200 + (i % 4) * 400);
      await until(async () => (await state(page)) === 'speaking', 10_000);
      const pcm = readWav(join(AUDIO_DIR, clip));
      const saidAt = await sayIntoMic(page, pcm);
      spoken.push({ clip, onsetAt: saidAt + (voiceOnset(pcm) / pcm.sampleRateHz) * 1000 });
      process.stderr.write(`… interruption ${i + 1}/${INTERRUPTIONS.length}\n`);
      await page.waitForTimeout((pcm.samples.length / pcm.sampleRateHz) * 1000 + 500);
    }
    await until(async () => (await state(page)) === 'speaking', 60_000);
    await page.evaluate(() => document.querySelector('voice-agent')!.interrupt());
    await until(async () => (await state(page)) === 'listening', 10_000);
    const inputLatencyMs = await measureInputLatency(page);

    const holds = (await page.evaluate(() =>
      (window as unknown as { __debug: { kind: string }[] }).__debug.filter((d) => d.kind === 'barge-in'),
    )) as unknown as Hold[];
    const starts = (await recordedEvents(page, 'voice-speech-start')).map((e) => e.wall);
    const ours: number[] = [];
    const fromVadOnset: number[] = [];
    const baseline: number[] = [];
    const missed: { clip: string; held: boolean; turnStarted: boolean }[] = [];
    for (const [i, { clip, onsetAt }] of spoken.entries()) {
      const arrival = onsetAt + inputLatencyMs;
      const next = spoken[i + 1]?.onsetAt ?? Infinity;
      const hold = holds.find((h) => h.outcome === 'hold' && h.decidedAt > onsetAt - 500 && h.decidedAt < next);
      const start = starts.find((at) => at > onsetAt - 500 && at < next);
      if (!hold || start === undefined) {
        missed.push({ clip, held: Boolean(hold), turnStarted: start !== undefined });
        continue;
      }
      ours.push(hold.decidedAt + HOLD_FADE_MS - arrival);
      fromVadOnset.push(hold.decidedAt + HOLD_FADE_MS - (hold.onsetAt ?? NaN));
      baseline.push(start + INTERRUPT_FADE_MS - arrival);
    }
    const selfInterruptions = holds.filter(
      (h) => h.outcome === 'hold' && !spoken.some(({ onsetAt }) => h.decidedAt > onsetAt - 500 && h.decidedAt < onsetAt + 4000),
    ).length;
    return { echoGain, inputLatencyMs, ours, fromVadOnset, baseline, missed, selfInterruptions };
  } finally {
    await opened.close();
    await llm.close();
  }
}

async function main() {
  const server = await startPreview(PORT);
  try {
    const quiet = await session(server.origin, 0);
    const echo = await session(server.origin, 0.25);
    const ms = (values: number[], q: number) => `${quantile(values, q).toFixed(0)} ms`;
    console.log(
      '| room | interruptions caught | ours: first word → voice silent, p50 / p90 | ours: VAD onset → voice silent, p50 / p90 | baseline: first word → VAD turn start + fade, p50 / p90 | self-interruptions |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const [name, run] of [
      ['quiet', quiet],
      ['agent echo at −12 dB', echo],
    ] as const) {
      // With echo, the VAD's turn is usually already open (on the echo): its onset and start
      // belong to the echo and say nothing about the visitor.
      const quietOnly = (values: number[]) => (run.echoGain > 0 ? 'n/a' : `${ms(values, 0.5)} / ${ms(values, 0.9)}`);
      console.log(
        `| ${name} | ${run.ours.length} / ${INTERRUPTIONS.length} | ${ms(run.ours, 0.5)} / ${ms(run.ours, 0.9)} | ${quietOnly(run.fromVadOnset)} | ${quietOnly(run.baseline)} | ${run.selfInterruptions} |`,
      );
    }
    console.log(
      "\nFirst word: the clip's first sound at 10× its noise floor, as it reaches the element's input; VAD onset: Silero's first speech frame of that turn.",
    );
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/barge-in.json', JSON.stringify({ date: new Date().toISOString(), quiet, echo }, null, 2));
    console.log('wrote bench/results/barge-in.json');
  } finally {
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
