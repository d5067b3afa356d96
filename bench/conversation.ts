/**
 * Voice-to-voice benchmark (not a test): `npm run bench:conversation` (after `npm run build`).
 *
 * The built `<voice-agent>` hears 10+ short spoken questions (clips from ../shared/audio,
 * joined with room for each answer) through the fake microphone, with an instant scripted
 * OpenAI-compatible LLM (tests/e2e/support/llm-server.ts) and the real Silero, recognizer
 * and Piper models. The recognizer is the element's own choice for English on WASM
 * (Moonshine tiny); `BENCH_ASR_MODEL=Xenova/whisper-tiny.en` runs it with Whisper instead. Ours: `voice-metrics.voiceToVoiceMs` of each answered turn
 * (the visitor's last voiced frame → the agent's first audio).
 *
 * The sequential baseline is built, turn by turn, from stages measured in the same run:
 * the same end-of-turn wait (the VAD's, from `voice-speech-end`), then one recognizer call on
 * the whole turn (the longest `asr-job` of that turn, `debug` records), then the whole
 * reply from the LLM (request arrival → end of the stream, server side), then Piper on
 * every clause of the reply (phonemize + synthesis, `tts-chunk` records), then play. It
 * leaves out every wait between stages, which is in its favour.
 *
 * Output: a table on stdout and bench/results/conversation.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentMarkup, openAgentPage, recordedEvents } from '../tests/e2e/support/browser.ts';
import { LlmServer } from '../tests/e2e/support/llm-server.ts';
import { AUDIO_DIR, SCRATCH_DIR, durationSeconds, joinClips, readWav, silence, writeWav, type Pcm } from '../tests/e2e/support/wav.ts';
import { quantile } from '../src/platform/stats.ts';
import { startPreview } from './preview.ts';

const PORT = 4194;
/** Empty: the element's own choice (Moonshine tiny for English on WASM). */
const ASR_MODEL = process.env.BENCH_ASR_MODEL ?? '';
/** Room after each question for the answer (~2.5 s of speech) and the next turn. */
const ANSWER_GAP_SECONDS = 7;
const REPLY = 'Sure. The answer is short, and it is ready for you now.';
const QUESTIONS = [
  'english-other/en_goforward.wav',
  'english-other/en_cards_005.wav',
  'english-other/en_cmuarctic_aew_a0003.wav',
  'english-other/en_cmuarctic_axb_a0004.wav',
  'english-other/en_librivox_sense_and_sensibility_0880.wav',
  'english-other/en_librivox_sense_and_sensibility_0930.wav',
  'librispeech/test-clean/ls_test-clean_4507-16021-0012.wav',
  'librispeech/test-clean/ls_test-clean_8455-210777-0068.wav',
  'librispeech/test-clean/ls_test-clean_61-70968-0002.wav',
  'librispeech/test-other/ls_test-other_1688-142285-0002.wav',
  'librispeech/test-other/ls_test-other_1998-15444-0007.wav',
  'librispeech/test-other/ls_test-other_1688-142285-0009.wav',
];

interface DebugRecord {
  kind: string;
  at: number;
  turnId?: number;
  audioSeconds?: number;
  inferenceMs?: number;
  chunk?: { saidAt: number; phonemizeMs: number; inferenceMs: number };
}

async function main() {
  const clips: Pcm[] = QUESTIONS.map((clip) => readWav(join(AUDIO_DIR, clip)));
  const rate = clips[0]!.sampleRateHz;
  const parts: Pcm[] = [{ sampleRateHz: rate, samples: silence(1, rate) }];
  for (const clip of clips) parts.push(clip, { sampleRateHz: rate, samples: silence(ANSWER_GAP_SECONDS, rate) });
  const joined = joinClips(parts);
  const wav = writeWav(join(SCRATCH_DIR, 'bench-conversation.wav'), joined);

  const llm = new LlmServer();
  llm.defaultReply = { text: REPLY };
  await llm.start();
  const server = await startPreview(PORT);
  const { origin } = server;
  const opened = await openAgentPage({
    micWav: wav,
    origin,
    body: agentMarkup(`debug llm-url="${llm.url}" asr-model="${ASR_MODEL}" asr-dtype=""`),
    initScripts: [
      `(() => { window.__tts = []; document.addEventListener('voice-debug', (e) => { if (e.detail.kind === 'tts-chunk') window.__tts.push({ at: performance.now(), chunk: { saidAt: e.detail.chunk.saidAt, phonemizeMs: e.detail.chunk.phonemizeMs, inferenceMs: e.detail.chunk.inferenceMs } }); }); })();`,
    ],
    permissions: ['local-network-access'],
  });
  try {
    const { page } = opened;
    process.stderr.write(`… ${QUESTIONS.length} spoken questions, ${durationSeconds(joined).toFixed(0)} s live\n`);
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    await page.waitForTimeout((durationSeconds(joined) + 2) * 1000);

    const ends = await recordedEvents(page, 'voice-speech-end');
    const metrics = await recordedEvents(page, 'voice-metrics');
    const asrJobs = await page.evaluate(() =>
      (window as unknown as { __debug: DebugRecord[] }).__debug.filter((d) => d.kind === 'asr-job'),
    );
    const tts = await page.evaluate(() => (window as unknown as { __tts: DebugRecord[] }).__tts);
    // Barge-in decisions (holds, resumes, drops) during the run: a question that pauses
    // long enough to be two turns interrupts the answer to its first half.
    const bargeIns = await page.evaluate(() =>
      (window as unknown as { __debug: { kind: string }[] }).__debug.filter((d) => d.kind === 'barge-in' && (d as { outcome?: string }).outcome !== 'echo'),
    );

    const ours = metrics.map((m) => Number(m.detail['voiceToVoiceMs'])).filter((v) => Number.isFinite(v) && v > 0);
    // Baseline per answered turn, from the same run's stage timings.
    const baseline: number[] = [];
    const stages: { eotMs: number; asrMs: number; llmMs: number; ttsMs: number }[] = [];
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((t) => t.detail['final'] === true);
    /** The turn's final transcript: the first after its speech-end (which is dispatched first). */
    const finalAfter = (at: number) => finals.find((t) => t.at >= at)?.at ?? Infinity;
    ends.forEach((end, i) => {
      const from = end.at;
      const to = ends[i + 1]?.at ?? Infinity;
      // The recognizer's calls for this turn: after the previous turn's final transcript, up to
      // this one's. A call made during the visitor's pause may have finished before the turn
      // ended (and become its final), so the window cannot start at the speech-end.
      const previousFinal = i > 0 ? finalAfter(ends[i - 1]!.at) : -Infinity;
      const thisFinal = finalAfter(from);
      const asr = asrJobs.filter((j) => j.at > previousFinal && j.at <= thisFinal);
      const turnAsr = asr.reduce((best, j) => ((j.audioSeconds ?? 0) > (best?.audioSeconds ?? -1) ? j : best), asr[0]);
      const chunks = tts.filter((c) => c.chunk!.saidAt >= from && c.chunk!.saidAt < to);
      const request = llm.requests[i];
      if (!turnAsr || chunks.length === 0 || !request) return;
      const stage = {
        eotMs: Number(end.detail['endOfTurnDelayMs']),
        asrMs: turnAsr.inferenceMs ?? 0,
        llmMs: (request.endedAt ?? request.lastTokenAt ?? request.receivedAt) - request.receivedAt,
        ttsMs: chunks.reduce((n, c) => n + c.chunk!.phonemizeMs + c.chunk!.inferenceMs, 0),
      };
      stages.push(stage);
      baseline.push(stage.eotMs + stage.asrMs + stage.llmMs + stage.ttsMs);
    });

    const recognizer = await page.evaluate(() => document.querySelector('voice-agent')!.capabilities?.model ?? '');
    const summary = {
      recognizer,
      bargeIns: bargeIns.length,
      turns: ends.length,
      answered: ours.length,
      voiceToVoiceMs: {
        ours: { p50: quantile(ours, 0.5), p90: quantile(ours, 0.9) },
        sequentialBaseline: { p50: quantile(baseline, 0.5), p90: quantile(baseline, 0.9) },
      },
      baselineStagesP50: {
        endOfTurnMs: quantile(stages.map((s) => s.eotMs), 0.5),
        recognizerWholeTurnMs: quantile(stages.map((s) => s.asrMs), 0.5),
        llmWholeReplyMs: quantile(stages.map((s) => s.llmMs), 0.5),
        piperWholeReplyMs: quantile(stages.map((s) => s.ttsMs), 0.5),
      },
    };
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(`Recognizer: ${recognizer}; ratio baseline / ours at p50: ${(summary.voiceToVoiceMs.sequentialBaseline.p50 / summary.voiceToVoiceMs.ours.p50).toFixed(2)}×\n`);
    console.log(`| ${summary.answered} answered turns of ${summary.turns} | ours (streaming) | sequential baseline |`);
    console.log('|---|---|---|');
    console.log(
      `| voice-to-voice, p50 / p90 | ${ms(summary.voiceToVoiceMs.ours.p50)} / ${ms(summary.voiceToVoiceMs.ours.p90)} | ${ms(summary.voiceToVoiceMs.sequentialBaseline.p50)} / ${ms(summary.voiceToVoiceMs.sequentialBaseline.p90)} |`,
    );
    console.log(
      `\nBaseline stages (p50): end of turn ${ms(summary.baselineStagesP50.endOfTurnMs)}, recognizer ${ms(summary.baselineStagesP50.recognizerWholeTurnMs)}, LLM ${ms(summary.baselineStagesP50.llmWholeReplyMs)}, Piper ${ms(summary.baselineStagesP50.piperWholeReplyMs)}`,
    );
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/conversation.json',
      JSON.stringify({ date: new Date().toISOString(), summary, ours, baseline, stages, bargeIns }, null, 2),
    );
    console.log('\nwrote bench/results/conversation.json');
  } finally {
    await opened.close();
    await server.close();
    await llm.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
