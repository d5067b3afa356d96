/**
 * Rapid repeated barge-ins (README "Reliability", row 14): the visitor interrupts ten
 * answers in a row, each a second or so after it starts, with real recordings played into
 * the microphone (support/mic-mix.ts, no echo: a headset) — real Silero, Whisper and Piper,
 * the scripted LLM server streaming slowly enough that every answer is still being
 * generated when it is cut off.
 *
 * The product models an interruption as: hold the answer at the visitor's first 160 ms of
 * speech, drop it at the first words, answer the new turn (README "Barge-in and echo").
 * So ten barge-ins are ten answers dropped one after another, each by a new turn. And a
 * visitor who goes on the moment an interruption ends, while it is still being transcribed,
 * gets one answer, to both utterances.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { agentState } from './support/agent.ts';
import { AUDIO_TAP_SCRIPT, readCapturedAudio } from './support/audio-tap.ts';
import { silentRuns, voiceOnset } from './support/audio-analysis.ts';
import { agentMarkup, openAgentPage, recordedEvents, resourceCounts, type OpenedPage } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';
import { micMixScript, sayIntoMic } from './support/mic-mix.ts';
import { SOAK_CLIPS, manifestTranscripts } from './support/soak.ts';
import { matchTurns, pooledWer, type SpokenTurn } from './support/soak-report.ts';
import { responseEnds } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { AUDIO_DIR, SCRATCH_DIR, readWav, silence, writeWav } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

const BARGE_INS = 10;
test.describe.configure({ timeout: 300_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

/** ~12 s of speech, streamed at 400 ms a word (~18 s): still streaming when interrupted (at 150 ms the first answer had finished streaming by the time it was dropped). */
const longReply = (n: number) =>
  `Answer number ${n}. The museum has three floors. The first floor shows old maps of the city and the harbour, ` +
  'the second floor holds paintings from the last two centuries, and the third floor is a small library ' +
  'where visitors may read quietly for as long as they like.';
const LAST_REPLY = 'All right, that is everything for today.';

/** How long after the visitor's first word the hold may come, at most (bench p90 is ~0.5 s). */
const HOLD_WITHIN_MS = 1000;

interface BargeInRecord {
  kind: 'barge-in';
  outcome: 'echo' | 'hold' | 'resume' | 'drop';
  decidedAt: number;
}

function bargeIns(page: Page): Promise<BargeInRecord[]> {
  return page.evaluate(() =>
    ((window as unknown as { __debug: { kind: string }[] }).__debug ?? []).filter((d) => d.kind === 'barge-in'),
  ) as Promise<BargeInRecord[]>;
}

/**
 * Whisper reads 30 s at a time: the captured output (well over 30 s here) is cut into
 * pieces of at most 25 s, each cut in the middle of a silence, and transcribed piece by piece.
 */
async function transcribeLong(samples: Float32Array, rate: number): Promise<string> {
  const gaps = silentRuns(samples, rate).map((g) => Math.round((g.start + g.end) / 2));
  const texts: string[] = [];
  let from = 0;
  while (from < samples.length) {
    let to = samples.length;
    if (to - from > 25 * rate) {
      const cuts = gaps.filter((c) => c > from + rate && c <= from + 25 * rate);
      to = cuts.at(-1) ?? from + 25 * rate;
    }
    texts.push(await transcribe(samples.subarray(from, to), rate));
    from = to;
  }
  return texts.join(' ');
}

/**
 * Every stretch of sound transcribed on its own (cut in the middle of each silence over
 * 1 s): across a long silence Whisper may stop at the first sentence and drop the rest
 * (seen once in CI: "Answer number one." for a capture that also held the last answer).
 */
async function transcribeEachSound(samples: Float32Array, rate: number): Promise<string> {
  const cuts = silentRuns(samples, rate)
    .filter((g) => g.end - g.start > rate)
    .map((g) => Math.round((g.start + g.end) / 2));
  const texts: string[] = [];
  for (const [from, to] of [0, ...cuts].map((c, i, all) => [c, all[i + 1] ?? samples.length] as const)) {
    texts.push(await transcribe(samples.subarray(from, to), rate));
  }
  return texts.join(' ');
}

/** Page wall clock, comparable with the recorded events' `wall`. */
const pageWall = (page: Page) => page.evaluate(() => performance.timeOrigin + performance.now());

/** Polls until a `speaking` state change after `since` (wall), i.e. the answer to the turn said then. */
async function speakingSince(page: Page, since: number): Promise<void> {
  await expect
    .poll(async () => (await recordedEvents(page, 'voice-state-change')).some((e) => e.wall > since && e.detail['state'] === 'speaking'), {
      timeout: 90_000,
      intervals: [100],
    })
    .toBe(true);
}

/**
 * The element listening (models preloaded) to a microphone that plays silence, mixed with
 * whatever the test says into it (no echo: a headset); extra attributes as given.
 */
async function openListening(attributes: string): Promise<{ opened: OpenedPage; pageErrors: string[] }> {
  const micWav = writeWav(join(SCRATCH_DIR, `barge-in-repeat-silence-${process.pid}.wav`), { sampleRateHz: 16_000, samples: silence(2, 16_000) });
  const opened = await openAgentPage({
    micWav,
    body: agentMarkup(`llm-url="${llm().url}" ${attributes} debug`),
    initScripts: [AUDIO_TAP_SCRIPT, micMixScript({ echoGain: 0, echoDelayMs: 0 })],
    permissions: ['local-network-access'],
  });
  const pageErrors: string[] = [];
  opened.page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    await expect.poll(() => agentState(page), { timeout: 60_000 }).toBe('listening');
  } catch (error) {
    await opened.close();
    throw error;
  }
  return { opened, pageErrors };
}

test(`${BARGE_INS} barge-ins in a row: each answer is held within ${HOLD_WITHIN_MS} ms of the visitor's first word and dropped, every turn is heard and answered, no error, nothing piles up`, async () => {
  llm().script(...Array.from({ length: BARGE_INS }, (_, i) => ({ text: longReply(i + 1), tokenDelayMs: 400 })), { text: LAST_REPLY, tokenDelayMs: 30 });
  const references = manifestTranscripts();
  const clips = SOAK_CLIPS.slice(0, BARGE_INS + 1).map((clip) => ({ clip, reference: references.get(clip)!, pcm: readWav(join(AUDIO_DIR, clip)) }));
  const { opened, pageErrors } = await openListening('');
  try {
    const { page } = opened;

    const spoken: SpokenTurn[] = [];
    let baseline: Awaited<ReturnType<typeof resourceCounts>> | undefined;
    for (let turn = 0; turn <= BARGE_INS; turn++) {
      const { clip, reference, pcm } = clips[turn]!;
      const bargeIn = turn > 0;
      if (bargeIn) {
        // Into the answer to the previous turn, 0.8–1.4 s after it became audible.
        const previous = clips[turn - 1]!.pcm;
        await speakingSince(page, spoken[turn - 1]!.saidAt + (previous.samples.length / previous.sampleRateHz) * 1000);
        if (turn === 1) baseline = await resourceCounts(page);
        await page.waitForTimeout(800 + (turn % 3) * 300);
        await expect.poll(() => agentState(page), { timeout: 10_000, intervals: [20] }).toBe('speaking');
      }
      const saidAt = await sayIntoMic(page, pcm);
      spoken.push({ clip, reference, saidAt, bargeIn });
    }
    // The last turn's answer plays to its end; the element listens again.
    await expect.poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] }).toHaveLength(BARGE_INS + 1);
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    const endedAt = await pageWall(page);

    // Every interruption held the answer promptly, then dropped it; nothing resumed.
    const records = await bargeIns(page);
    const delays: number[] = [];
    for (let turn = 1; turn <= BARGE_INS; turn++) {
      const { saidAt } = spoken[turn]!;
      const until = spoken[turn + 1]?.saidAt ?? endedAt;
      const inWindow = records.filter((r) => r.decidedAt >= saidAt && r.decidedAt < until);
      const onset = saidAt + (voiceOnset(clips[turn]!.pcm) / clips[turn]!.pcm.sampleRateHz) * 1000;
      const holds = inWindow.filter((r) => r.outcome === 'hold');
      expect(holds, `barge-in ${turn}: ${JSON.stringify(inWindow)}`).toHaveLength(1);
      expect(inWindow.filter((r) => r.outcome === 'drop'), `barge-in ${turn}`).toHaveLength(1);
      delays.push(holds[0]!.decidedAt - onset);
    }
    console.log(`hold after the visitor's first word (ms, incl. the rig's input latency): ${delays.map((d) => d.toFixed(0)).join(', ')}`);
    for (const d of delays) expect(d).toBeLessThanOrEqual(HOLD_WITHIN_MS);
    expect(records.filter((r) => r.outcome === 'resume')).toEqual([]);
    expect(records.filter((r) => r.outcome === 'hold')).toHaveLength(BARGE_INS);

    // No turn lost: each utterance transcribed in its own window and answered.
    const events = await recordedEvents(page);
    const transcripts = events
      .filter((e) => e.type === 'voice-transcript' && e.detail['final'] && e.detail['source'] === 'speech')
      .map((e) => ({ wall: e.wall, text: String(e.detail['text']) }));
    const speakingStarts = events.filter((e) => e.type === 'voice-state-change' && e.detail['state'] === 'speaking').map((e) => e.wall);
    const turns = matchTurns(spoken, transcripts, speakingStarts);
    expect(turns.filter((t) => !t.heard || !t.answered).map((t) => ({ clip: t.clip, heard: t.heard, answered: t.answered }))).toEqual([]);
    expect(transcripts).toHaveLength(BARGE_INS + 1);
    const wer = pooledWer(turns);
    console.log(`pooled WER of the ${turns.length} turns: ${(wer * 100).toFixed(1)} %`);
    expect(wer).toBeLessThan(0.25);

    // Ten answers cut off (a strict prefix heard), the last one whole, in order.
    const ends = await responseEnds(page);
    for (let i = 0; i < BARGE_INS; i++) {
      expect(ends[i]!.interrupted, `answer ${i + 1}`).toBe(true);
      expect(ends[i]!.text.startsWith(`Answer number ${i + 1}.`), `answer ${i + 1}: ${ends[i]!.text}`).toBe(true);
      expect(longReply(i + 1).startsWith(ends[i]!.heardText)).toBe(true);
      expect(ends[i]!.heardText.length).toBeLessThan(longReply(i + 1).length);
    }
    expect(ends[BARGE_INS]).toEqual({ text: LAST_REPLY, heardText: LAST_REPLY, interrupted: false });

    // Each LLM stream was aborted before the next request was made: one reply at a time.
    // Seen from the server, the old socket's close can be noticed a few ms after the new
    // request arrives (measured once: 6 ms); 50 ms of that lag is allowed.
    const requests = llm().requests;
    expect(requests).toHaveLength(BARGE_INS + 1);
    for (let i = 0; i < BARGE_INS; i++) {
      expect(await requests[i]!.ended, `request ${i + 1}`).toBe('client-closed');
      expect(requests[i + 1]!.receivedAt, `request ${i + 2} arrived before ${i + 1} was closed`).toBeGreaterThanOrEqual(requests[i]!.endedAt! - 50);
    }
    const history = await page.evaluate(() => document.querySelector('voice-agent')!.history.map((e) => ({ ...e })));
    expect(history.map((e) => e.role)).toEqual(Array.from({ length: BARGE_INS + 1 }, () => ['user', 'assistant']).flat());
    expect(history.filter((e) => e.interrupted)).toHaveLength(BARGE_INS);

    // What reached the speakers: the heard parts, then the last answer — no cut-off
    // answer's queued audio played later.
    const captured = await readCapturedAudio(page);
    const played = await transcribeLong(captured.samples, captured.sampleRateHz);
    const expected = [...ends.slice(0, BARGE_INS).map((e) => e.heardText), LAST_REPLY].join(' ');
    const playedWer = wordErrorRate(expected, played).wer;
    console.log(`played vs heard (WER ${(playedWer * 100).toFixed(1)} %): ${played}`);
    expect(playedWer, played).toBeLessThanOrEqual(0.3);

    // No error, and no AudioContext, worker or microphone track more than after the first answer.
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    expect(pageErrors).toEqual([]);
    const end = await resourceCounts(page);
    console.log(`resources after the first answer ${JSON.stringify(baseline)}, at the end ${JSON.stringify(end)}`);
    expect(end.audioContexts).toBeLessThanOrEqual(baseline!.audioContexts);
    expect(end.workers).toBeLessThanOrEqual(baseline!.workers);
    expect(end.liveTracks).toBeLessThanOrEqual(baseline!.liveTracks);
  } finally {
    await opened.close();
  }
});

test('the visitor goes on right after interrupting, while the interruption is still being transcribed: one answer, to both, is heard', async () => {
  const INTERRUPTED = longReply(1);
  llm().script(
    { text: INTERRUPTED, tokenDelayMs: 400 },
    // Asked about the interruption alone, while the visitor is already on the second utterance: unheard.
    { text: 'An answer to the interruption alone.', tokenDelayMs: 30 },
    { text: LAST_REPLY, tokenDelayMs: 30 },
  );
  const references = manifestTranscripts();
  const clip = (name: string) => ({ reference: references.get(name)!, pcm: readWav(join(AUDIO_DIR, name)) });
  const question = clip('english-other/en_goforward.wav');
  const interruption = clip('english-other/en_cmuarctic_aew_a0003.wav');
  const more = clip('english-other/en_cards_005.wav');
  // The second utterance starts speaking at once (its leading silence cut to 50 ms).
  const moreFrom = Math.max(0, voiceOnset(more.pcm) - Math.round(0.05 * more.pcm.sampleRateHz));
  const moreSpeech = { sampleRateHz: more.pcm.sampleRateHz, samples: more.pcm.samples.subarray(moreFrom) };
  // Whisper: ~1 s a call here, so the interruption is still with the recognizer when the visitor goes on.
  const { opened, pageErrors } = await openListening('asr-model="Xenova/whisper-tiny.en" silence-ms="300"');
  try {
    const { page } = opened;

    const questionAt = await sayIntoMic(page, question.pcm);
    await speakingSince(page, questionAt);
    await page.waitForTimeout(1000);
    // The second utterance is played in the moment the interruption's turn ends.
    await page.evaluate(
      ({ samples, rate }) => {
        const w = window as unknown as { __micMix: { say(s: number[], r: number): number }; __moreSaidAt?: number };
        document.addEventListener(
          'voice-speech-start',
          () => document.addEventListener('voice-speech-end', () => (w.__moreSaidAt = w.__micMix.say(samples, rate)), { once: true }),
          { once: true },
        );
      },
      { samples: Array.from(moreSpeech.samples), rate: moreSpeech.sampleRateHz },
    );
    const interruptedAt = await sayIntoMic(page, interruption.pcm);
    await expect.poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] }).toContainEqual({
      text: LAST_REPLY,
      heardText: LAST_REPLY,
      interrupted: false,
    });
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    const moreSaidAt = await page.evaluate(() => (window as unknown as { __moreSaidAt?: number }).__moreSaidAt);
    expect(moreSaidAt).toBeDefined();

    // Both utterances were heard, and the last request asked about both, as one message.
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final'] && e.detail['source'] === 'speech');
    const heardAfter = finals.filter((e) => e.wall > interruptedAt).map((e) => String(e.detail['text']));
    const both = `${interruption.reference} ${more.reference}`;
    expect(wordErrorRate(both, heardAfter.join(' ')).wer, heardAfter.join(' | ')).toBeLessThan(0.3);
    const lastAsked = String(llm().requests.at(-1)!.body!.messages!.at(-1)!.content);
    expect(wordErrorRate(both, lastAsked).wer, lastAsked).toBeLessThan(0.3);

    // Heard: the first answer up to the interruption, then only the last answer. Any answer
    // asked for in between ended unheard, and the agent never spoke while the visitor was
    // still on the second utterance.
    const ends = await responseEnds(page);
    expect(ends[0]!.interrupted).toBe(true);
    expect(INTERRUPTED.startsWith(ends[0]!.heardText)).toBe(true);
    for (const end of ends.slice(1, -1)) expect(end).toMatchObject({ heardText: '', interrupted: true });
    expect(ends.at(-1)).toEqual({ text: LAST_REPLY, heardText: LAST_REPLY, interrupted: false });
    // (From the interruption's hold: the first answer may still flicker speaking / thinking between clauses before it.)
    const allStates = (await recordedEvents(page, 'voice-state-change')).filter((e) => e.wall > interruptedAt).map((e) => String(e.detail['state']));
    const states = allStates.slice(allStates.indexOf('user-speaking'));
    console.log(`states after the interruption: ${states.join(' → ')}; holds / drops: ${JSON.stringify((await bargeIns(page)).map((r) => r.outcome))}`);
    expect(states.indexOf('speaking')).toBeGreaterThan(states.lastIndexOf('user-speaking'));
    const captured = await readCapturedAudio(page);
    const played = await transcribeEachSound(captured.samples, captured.sampleRateHz);
    const expected = `${ends[0]!.heardText} ${LAST_REPLY}`;
    console.log(`played: ${played}`);
    expect(wordErrorRate(expected, played).wer, played).toBeLessThanOrEqual(0.3);

    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    expect(pageErrors).toEqual([]);
  } finally {
    await opened.close();
  }
});
