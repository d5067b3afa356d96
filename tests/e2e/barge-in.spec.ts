/**
 * Barge-in and echo, end to end: real VAD, Whisper and Piper in Debian's Chromium, the
 * scripted OpenAI-compatible server, and a microphone that hears the room
 * (support/mic-mix.ts): the fake-mic WAV, the agent's own voice coming back at −12 dB with
 * no echo canceller in the way, and a second visitor utterance played in while the agent
 * speaks.
 */
import { expect, test, type Page } from '@playwright/test';
import { startAgent, agentState } from './support/agent.ts';
import { AUDIO_TAP_SCRIPT, readCapturedAudio } from './support/audio-tap.ts';
import { agentMarkup, openAgentPage, recordedEvents, type OpenedPage } from './support/browser.ts';
import { HOLD_FADE_MS } from '../../src/speaking/playback-controller.ts';
import { useLlmServer } from './support/llm-server.ts';
import { LEVEL_RECORDER_SCRIPT, measureInputLatency, micMixScript, sayIntoMic } from './support/mic-mix.ts';
import { responseEnds } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { voiceOnset } from './support/audio-analysis.ts';
import { AUDIO_DIR, JFK_CLIP as JFK, JFK_TEXT, paddedFixture, readWav, type Pcm } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

/** The agent's voice in the microphone: −12 dB, 40 ms later. */
const ECHO = { echoGain: 0.25, echoDelayMs: 40 };

const LONG_REPLY =
  'The museum has three floors. The first floor shows old maps of the city and the harbour, ' +
  'the second floor holds paintings from the last two centuries, and the third floor is ' +
  'given over to a small library where visitors may read quietly for as long as they like, ' +
  'with a cafe next door that serves tea and cake every afternoon.';

/** "Your power is sufficient, I said." — the visitor talking over the agent. */
const INTERRUPTION = readWav(`${AUDIO_DIR}/librispeech/test-clean/ls_test-clean_8455-210777-0068.wav`);

interface BargeInRecord {
  kind: 'barge-in';
  outcome: 'echo' | 'hold' | 'resume' | 'drop';
  decidedAt: number;
  onsetAt?: number;
  micRms?: number;
  expectedEchoRms?: number;
  transcript?: string;
}

function bargeIns(page: Page): Promise<BargeInRecord[]> {
  return page.evaluate(() =>
    ((window as unknown as { __debug: { kind: string }[] }).__debug ?? []).filter((d) => d.kind === 'barge-in'),
  ) as Promise<BargeInRecord[]>;
}

function history(page: Page) {
  return page.evaluate(() => document.querySelector('voice-agent')!.history.map((e) => ({ ...e })));
}

/** A page whose microphone plays "go forward ten meters" once, then hears only the room. */
async function openConversation(attributes = ''): Promise<OpenedPage> {
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 60);
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup(`llm-url="${llm().url}" debug ${attributes}`),
    initScripts: [AUDIO_TAP_SCRIPT, micMixScript(ECHO), LEVEL_RECORDER_SCRIPT],
    permissions: ['local-network-access'],
  });
  await opened.page.evaluate(() => document.querySelector('voice-agent')!.preload());
  await startAgent(opened.page);
  return opened;
}

/**
 * Waits for the first answer to be audible, then `afterMs` more, then for it to be audible
 * again (between clauses of a slowly streaming answer the state is `thinking`).
 */
async function whileSpeaking(page: Page, afterMs: number): Promise<void> {
  await expect.poll(() => agentState(page), { timeout: 90_000, intervals: [100] }).toBe('speaking');
  await page.waitForTimeout(afterMs);
  await expect.poll(() => agentState(page), { timeout: 10_000, intervals: [20] }).toBe('speaking');
}

/** Wall-clock time of the first word of `pcm` once played at `startsAt`. */
function onsetOf(pcm: Pcm, startsAt: number): number {
  return startsAt + (voiceOnset(pcm) / pcm.sampleRateHz) * 1000;
}

test('talking over the answer stops it within 300 ms of onset; the heard part is kept (interrupted) and the new turn is answered', async () => {
  llm().script({ text: LONG_REPLY, tokenDelayMs: 250 }, { text: 'Of course, I will stop there.' });
  const opened = await openConversation();
  try {
    const { page } = opened;
    // Long enough into the answer for the echo gate to have learned the echo path.
    await whileSpeaking(page, 2500);
    const saidAt = await sayIntoMic(page, INTERRUPTION);
    const onsetAt = onsetOf(INTERRUPTION, saidAt);

    await expect.poll(() => responseEnds(page), { timeout: 90_000, intervals: [500] }).toHaveLength(2);
    const records = await bargeIns(page);
    // The agent's own voice never paused it: the only hold is the visitor's.
    const holds = records.filter((r) => r.outcome === 'hold');
    expect(holds, JSON.stringify(records)).toHaveLength(1);
    expect(holds[0]!.decidedAt).toBeGreaterThan(saidAt);
    // Onset = when the visitor's first sound reached the element's microphone input: the
    // time it was played plus this test rig's own input latency (measured below with a beep).
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    const inputLatencyMs = await measureInputLatency(page);
    const silencedAfterMs = holds[0]!.decidedAt + HOLD_FADE_MS - (onsetAt + inputLatencyMs);
    console.log(
      `barge-in: output silent ${silencedAfterMs.toFixed(0)} ms after the visitor's onset reached the mic input ` +
        `(rig input latency ${inputLatencyMs.toFixed(0)} ms)`,
      JSON.stringify(holds[0]),
    );
    expect(silencedAfterMs).toBeGreaterThan(0);
    expect(silencedAfterMs).toBeLessThanOrEqual(300);
    expect(records.map((r) => r.outcome)).toContain('drop');

    // The first answer ends interrupted, with a strict prefix of it heard.
    const [first, second] = await responseEnds(page);
    expect(first!.interrupted).toBe(true);
    expect(first!.heardText.length).toBeGreaterThan(0);
    expect(first!.heardText.length).toBeLessThan(LONG_REPLY.length);
    expect(LONG_REPLY.startsWith(first!.heardText)).toBe(true);
    expect(second).toEqual({ text: 'Of course, I will stop there.', heardText: 'Of course, I will stop there.', interrupted: false });

    // History: the heard part only, marked; the LLM stream was aborted and the next
    // request carries what the visitor actually heard.
    const entries = await history(page);
    expect(entries.map((e) => e.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(entries[1]).toMatchObject({ content: first!.heardText, heard: first!.heardText, interrupted: true, generated: expect.any(String) });
    expect(wordErrorRate('your power is sufficient i said', entries[2]!.content).wer).toBeLessThan(0.5);
    expect(await llm().requests[0]!.ended).toBe('client-closed');
    const resent = llm().requests[1]!.body!.messages!.map((m) => [m.role, m.content]);
    expect(resent.slice(-2, -1)).toEqual([['assistant', first!.heardText]]);

    // What reached the speakers: the heard part of the first answer, then the second.
    const captured = await readCapturedAudio(page);
    const played = await transcribe(captured.samples, captured.sampleRateHz);
    const expected = `${first!.heardText} Of course, I will stop there.`;
    expect(wordErrorRate(expected, played).wer, played).toBeLessThanOrEqual(0.25);
  } finally {
    await opened.close();
  }
});

test('the agent hearing its own voice (speakers, no echo canceller) does not interrupt itself', async () => {
  llm().script({ text: LONG_REPLY, tokenDelayMs: 30 });
  const opened = await openConversation();
  try {
    const { page } = opened;
    await expect.poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] }).toHaveLength(1);
    const records = await bargeIns(page);
    expect(await responseEnds(page)).toEqual([{ text: LONG_REPLY, heardText: LONG_REPLY, interrupted: false }]);
    // The echo did reach the VAD as speech, and the gate put it down to the agent's voice.
    expect(records.filter((r) => r.outcome === 'echo').length, JSON.stringify(records)).toBeGreaterThan(0);
    expect(records.filter((r) => r.outcome === 'hold'), JSON.stringify(records)).toEqual([]);
    const entries = await history(page);
    expect(entries.map((e) => e.role)).toEqual(['user', 'assistant']);
    expect(entries[1]).toMatchObject({ content: LONG_REPLY });
    expect(entries[1]!.interrupted).toBeUndefined();
    expect(llm().requests).toHaveLength(1);
  } finally {
    await opened.close();
  }
});

test('speech over the answer that turns out to be its own words (a loud echo) pauses it, then it plays on to the end', async () => {
  // The answer says the very words the "visitor" will say: when they come back loud
  // enough to pass the level gate, the transcript shows they are the agent's own.
  const reply = `Your power is sufficient, I said to the keeper. ${LONG_REPLY}`;
  llm().script({ text: reply, tokenDelayMs: 30 });
  const opened = await openConversation();
  try {
    const { page } = opened;
    await expect
      .poll(async () => (await recordedEvents(page, 'voice-response')).some((e) => String(e.detail['text']).includes('keeper')), {
        timeout: 90_000,
        intervals: [100],
      })
      .toBe(true);
    const saidAt = await sayIntoMic(page, INTERRUPTION);
    await expect.poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] }).toHaveLength(1);
    const after = (await bargeIns(page)).filter((r) => r.decidedAt > saidAt);
    expect(after.filter((r) => r.outcome !== 'echo').map((r) => r.outcome)).toEqual(['hold', 'resume']);
    expect(after.some((r) => r.outcome === 'echo' && /power/i.test(r.transcript ?? ''))).toBe(true);
    expect(await responseEnds(page)).toEqual([{ text: reply, heardText: reply, interrupted: false }]);
    expect((await history(page)).map((e) => e.content)).toEqual(['Go forward ten meters.', reply].map((t, i) => (i === 0 ? expect.any(String) : t)));
    expect(llm().requests).toHaveLength(1);
  } finally {
    await opened.close();
  }
});

test('interruptions="off": the answer plays to the end over the visitor', async () => {
  llm().script({ text: LONG_REPLY, tokenDelayMs: 30 });
  const opened = await openConversation('interruptions="off"');
  try {
    const { page } = opened;
    await whileSpeaking(page, 2500);
    await sayIntoMic(page, INTERRUPTION);
    await expect.poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] }).toHaveLength(1);
    expect(await responseEnds(page)).toEqual([{ text: LONG_REPLY, heardText: LONG_REPLY, interrupted: false }]);
    expect((await bargeIns(page)).filter((r) => r.outcome === 'hold')).toEqual([]);
    expect(llm().requests).toHaveLength(1);
  } finally {
    await opened.close();
  }
});

/**
 * "Mister Quilter is the apostle of the middle classes | and we are glad to welcome his
 * gospel", with 1.5 s of silence inserted mid-way: silence (480 ms) ends a turn there, the
 * first half is sent to the LLM — and the visitor goes on before any answer is heard.
 */
const CUT_SENTENCE = 'derived/long-pauses/pause_1272-128104-0000_mid_gap1500ms.wav';
const CUT_SENTENCE_TEXT = 'mister quilter is the apostle of the middle classes and we are glad to welcome his gospel';

const SECOND_ANSWER = 'Thank you, I will welcome it.';

/** A page whose microphone plays `clip` (then the room), answering from the scripted LLM, listening with its models loaded. */
async function openListeningPage(clip: string): Promise<OpenedPage> {
  const { path } = paddedFixture(clip, 1, 20);
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup(`llm-url="${llm().url}" debug`),
    initScripts: [AUDIO_TAP_SCRIPT],
    permissions: ['local-network-access'],
  });
  await opened.page.evaluate(() => document.querySelector('voice-agent')!.preload());
  await startAgent(opened.page);
  return opened;
}

// The first answer's first token comes 3 s after it is asked for (its audio is ready while
// the second half is being transcribed: it must wait unheard), or 12 s after (the second
// half is transcribed first: the request is aborted before any text, and the hold must not
// outlive it — the next answer would open held and never be heard).
for (const firstTokenDelayMs of [3000, 12_000]) {
  test(`the visitor goes on talking before the first half's answer is heard (its first token after ${firstTokenDelayMs / 1000} s): dropped unheard, one answer to the whole`, async () => {
    llm().script({ text: 'An answer to half a sentence.', firstTokenDelayMs }, { text: SECOND_ANSWER });
    const opened = await openListeningPage(CUT_SENTENCE);
    try {
      const { page } = opened;
      await expect
        .poll(async () => (await responseEnds(page)).some((end) => end.text === SECOND_ANSWER), { timeout: 90_000, intervals: [500] })
        .toBe(true);
      await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
      const states = (await recordedEvents(page, 'voice-state-change')).map((e) => String(e.detail['state']));
      console.log(`states: ${states.join(' → ')}`);

      // Two turns, split at the pause.
      const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final']).map((e) => String(e.detail['text']));
      expect(finals).toHaveLength(2);
      expect(wordErrorRate(CUT_SENTENCE_TEXT, finals.join(' ')).wer, finals.join(' | ')).toBeLessThan(0.3);
      // The first answer (if it ended at all: with no text it never began) was heard not at
      // all; the second whole. The state never said `speaking` while the visitor was heard.
      const ends = await responseEnds(page);
      expect(ends.at(-1)).toEqual({ text: SECOND_ANSWER, heardText: SECOND_ANSWER, interrupted: false });
      for (const end of ends.slice(0, -1)) expect(end).toMatchObject({ heardText: '', interrupted: true });
      expect(states.lastIndexOf('user-speaking')).toBeLessThan(states.indexOf('speaking'));

      // The second request asks about the whole sentence: the visitor's two turns as one
      // message (nothing of the unheard answer between them).
      expect(llm().requests).toHaveLength(2);
      if (firstTokenDelayMs > 10_000) expect(await llm().requests[0]!.ended).toBe('client-closed');
      const asked = llm().requests[1]!.body!.messages!;
      expect(asked.map((m) => m.role)).toEqual(['user']);
      expect(asked[0]!.content).toBe(finals.join('\n\n'));
      expect((await history(page)).map((e) => [e.role, e.content])).toEqual([
        ['user', finals[0]],
        ['assistant', ''],
        ['user', finals[1]],
        ['assistant', SECOND_ANSWER],
      ]);

      // What reached the speakers: the second answer only.
      const captured = await readCapturedAudio(page);
      const played = await transcribe(captured.samples, captured.sampleRateHz);
      expect(wordErrorRate(SECOND_ANSWER, played).wer, played).toBeLessThanOrEqual(0.25);
      expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    } finally {
      await opened.close();
    }
  });
}

test('a sentence cut by silence at its inner pauses (JFK) is answered once: the answers to its fragments wait unheard and are dropped; the last request carries the whole sentence', async () => {
  const replies = ['one', 'two', 'three', 'four', 'five', 'six'].map((n) => `Reply ${n} is here.`);
  llm().script(...replies.map((text) => ({ text })));
  const opened = await openListeningPage(JFK);
  try {
    const { page } = opened;
    // Done when an answer has been heard whole and the agent listens again.
    await expect
      .poll(async () => (await responseEnds(page)).some((end) => !end.interrupted), { timeout: 90_000, intervals: [500] })
      .toBe(true);
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    const states = (await recordedEvents(page, 'voice-state-change')).map((e) => String(e.detail['state']));
    console.log(`states: ${states.join(' → ')}`);

    // Cut into several turns at its pauses (the answers to the first were asked for at once).
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final']).map((e) => String(e.detail['text']));
    expect(finals.length, finals.join(' | ')).toBeGreaterThanOrEqual(2);
    expect(wordErrorRate(JFK_TEXT, finals.join(' ')).wer, finals.join(' | ')).toBeLessThan(0.3);
    // Every answer but the last was dropped with nothing of it heard; the last heard whole.
    const ends = await responseEnds(page);
    const last = ends.at(-1)!;
    expect(last.interrupted).toBe(false);
    expect(last.heardText).toBe(last.text);
    for (const end of ends.slice(0, -1)) expect(end).toMatchObject({ heardText: '', interrupted: true });
    // The agent never spoke while the visitor was still on the sentence.
    expect(states.lastIndexOf('user-speaking')).toBeLessThan(states.indexOf('speaking'));
    // The last request asked about the whole sentence, its turns as one message.
    const asked = llm().requests.at(-1)!.body!.messages!;
    expect(asked.map((m) => m.role)).toEqual(['user']);
    expect(asked[0]!.content).toBe(finals.join('\n\n'));
    // What reached the speakers: that one answer.
    const captured = await readCapturedAudio(page);
    const played = await transcribe(captured.samples, captured.sampleRateHz);
    expect(wordErrorRate(last.text, played).wer, played).toBeLessThanOrEqual(0.25);
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
  } finally {
    await opened.close();
  }
});
