/**
 * Speaking, end to end: the built element, the real Piper voice (en_US-joe-medium from
 * ../shared/models), the real espeak-ng phonemizer, and what actually reaches the page's
 * output — checked by the real Whisper model, not by our own bookkeeping.
 */
import { expect, test } from '@playwright/test';
import { agentState, startAgent } from './support/agent.ts';
import { analysisWindowMs, longestSilenceMs, silentRuns, soundSpan } from './support/audio-analysis.ts';
import { outputFrame, readCapturedAudio } from './support/audio-tap.ts';
import { ORIGIN, recordedEvents } from './support/browser.ts';
import { chunkRecords, openSpeakingPage, responseEnds, responses, sayInPage } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { normalizeForWer as normalizeWords, wordErrorRate } from './support/wer.ts';
import { splitClauses } from '../../src/speaking/speakable-text.ts';
import { SCRATCH_DIR, silence, writeWav } from './support/wav.ts';
import { join } from 'node:path';

const REPLY =
  'Hello there, thanks for calling. The weather today is sunny and warm, with a light breeze from the west. Would you like me to book a table for dinner tonight?';

const LONG_REPLY =
  'Let me tell you about the old lighthouse on the northern coast. It was built by fishermen who wanted a safe way home through the fog, and for many years a keeper lived there with his family. Every evening he climbed the narrow stairs to light the lamp before the sun went down.';

test.describe.configure({ timeout: 180_000 });

test('say() speaks a reply: Whisper hears the text, the state is speaking, no holes between clauses', async () => {
  const opened = await openSpeakingPage();
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await sayInPage(page, REPLY);

    // What reached the speakers, transcribed by Whisper.
    const captured = await readCapturedAudio(page);
    const span = soundSpan(captured.samples, captured.sampleRateHz);
    expect(span, 'the page played sound').not.toBeNull();
    const transcript = await transcribe(captured.samples, captured.sampleRateHz);
    const { wer } = wordErrorRate(REPLY, transcript);
    console.log(`Whisper heard: "${transcript}" (WER ${(wer * 100).toFixed(1)} %)`);
    expect(wer).toBeLessThanOrEqual(0.1);

    // Gap-free: the captured speech is the clauses laid end to end. Its longest silence is
    // no longer than the longest silence of the clauses' own audio joined without gaps
    // (the voice's own pauses), and it lasts as long.
    const chunks = await chunkRecords(page);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const rate = captured.sampleRateHz;
    expect(chunks.every((c) => c.sampleRateHz === rate)).toBe(true);
    const joined = new Float32Array(chunks.reduce((n, c) => n + c.pcm.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      joined.set(chunk.pcm, at);
      at += chunk.pcm.length;
    }
    // Both are measured on audio cut into 5 ms analysis windows at the same places: the
    // captured audio is cut at the sample where the joined audio starts. A window straddling
    // the quiet edge of a pause may still tip either way at each end of it (the captured
    // level is not bit-identical), so two windows are allowed; a hole the player left would
    // also show as an underrun below.
    const firstSound = (samples: Float32Array) => samples.findIndex((v) => Math.abs(v) > 1e-3);
    const offset = firstSound(captured.samples) - firstSound(joined);
    expect(offset).toBeGreaterThanOrEqual(0);
    const aligned = captured.samples.subarray(offset, offset + joined.length);
    const ownPauseMs = longestSilenceMs(joined, rate);
    const capturedPauseMs = longestSilenceMs(aligned, rate);
    console.log(`longest pause: voice's own ${ownPauseMs.toFixed(1)} ms, captured ${capturedPauseMs.toFixed(1)} ms`);
    expect(capturedPauseMs).toBeLessThanOrEqual(ownPauseMs + 2 * analysisWindowMs(rate) + 1e-9);
    const ownSpan = soundSpan(joined, rate)!;
    const capturedMs = ((span!.end - span!.start) / rate) * 1000;
    const ownMs = ((ownSpan.end - ownSpan.start) / rate) * 1000;
    expect(Math.abs(capturedMs - ownMs)).toBeLessThanOrEqual(15);
    // No short hole either (one too brief to change the length): as many silent stretches as
    // in the clauses' own audio, counted on the same aligned windows (a window straddling a
    // quiet edge may still tip either way: one more is allowed).
    expect(silentRuns(aligned, rate).length).toBeLessThanOrEqual(silentRuns(joined, rate).length + 1);
    expect(chunks.map((c) => c.underrunMs)).toEqual(chunks.map(() => 0));

    // The first clause is short, later ones longer; every clause is one the splitter made.
    expect(chunks[0]!.text).toBe('Hello there,');
    expect(chunks.map((c) => c.text).join(' ')).toBe(REPLY);

    // Events: speaking while audio played; the heard text grew to the whole reply.
    const states = (await recordedEvents(page, 'voice-state-change')).map((e) => e.detail['state']);
    expect(states).toEqual(['speaking', 'idle']);
    const heard = await responses(page);
    expect(heard.length).toBeGreaterThan(5);
    expect(heard.map((r) => r.delta).join('')).toBe(REPLY);
    expect(heard.at(-1)!.text).toBe(REPLY);
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    await expect(page.locator('voice-agent').locator('[part="caption"]')).toHaveText([`Agent: ${REPLY}`]);
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    expect(await agentState(page)).toBe('idle');
  } finally {
    await opened.close();
  }
});

test('interrupt() mid-sentence: the output stops within 100 ms and heardText ends where it stopped', async () => {
  const opened = await openSpeakingPage();
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const said = sayInPage(page, LONG_REPLY);
    // Into the second sentence, well past the first clause.
    await expect
      .poll(async () => normalizeWords((await responses(page)).at(-1)?.text ?? '').length, { timeout: 30_000, intervals: [50] })
      .toBeGreaterThanOrEqual(16);
    expect(await agentState(page)).toBe('speaking');
    const interruptFrame = await page.evaluate(() => {
      const tap = (window as unknown as { __taps: { context: AudioContext }[] }).__taps.at(-1)!;
      const frame = Math.floor(tap.context.currentTime * tap.context.sampleRate);
      document.querySelector('voice-agent')!.interrupt();
      return frame;
    });
    await said;
    expect(await agentState(page)).toBe('idle');
    // Let the graph run on a while: nothing may come after the fade.
    const until = interruptFrame + 48_000;
    await expect.poll(() => outputFrame(page), { timeout: 5_000 }).toBeGreaterThan(until);

    const captured = await readCapturedAudio(page);
    const rate = captured.sampleRateHz;
    const cut = interruptFrame - captured.startFrame;
    const before = captured.samples.subarray(Math.max(0, cut - Math.round(0.4 * rate)), cut);
    expect(soundSpan(before, rate), 'speech was playing when interrupt() was called').not.toBeNull();
    const after = captured.samples.subarray(cut);
    const lastSound = soundSpan(after, rate);
    const stopMs = lastSound ? (lastSound.end / rate) * 1000 : 0;
    console.log(`sound stopped ${stopMs.toFixed(1)} ms after interrupt()`);
    expect(stopMs).toBeLessThanOrEqual(100);

    const [end] = await responseEnds(page);
    expect(end!.interrupted).toBe(true);
    expect(end!.text).toBe(LONG_REPLY);
    expect(LONG_REPLY.startsWith(end!.heardText)).toBe(true);
    const heardWords = normalizeWords(end!.heardText);
    expect(heardWords.length).toBeGreaterThanOrEqual(16);
    expect(heardWords.length).toBeLessThan(normalizeWords(LONG_REPLY).length);
    // "Near the interruption point": Whisper, on the audio up to the interruption, hears
    // about as many words as heardText claims (a word cut in half may go either way).
    const spoken = await transcribe(captured.samples.subarray(0, cut), rate);
    const spokenWords = normalizeWords(spoken);
    console.log(`heardText: "${end!.heardText}"\nWhisper up to interrupt(): "${spoken}"`);
    expect(Math.abs(spokenWords.length - heardWords.length)).toBeLessThanOrEqual(2);
  } finally {
    await opened.close();
  }
});

test('a voice that does not exist, or is not a voice id → voice-error naming it; the reply is still shown', async () => {
  const opened = await openSpeakingPage({ attributes: 'voice="en_US-nobody-medium"' });
  try {
    const { page } = opened;
    const agent = page.locator('voice-agent');
    await sayInPage(page, 'Hello there.');
    const [missing] = await recordedEvents(page, 'voice-error');
    expect(missing!.detail).toMatchObject({ code: 'model-load-failed', recoverable: true });
    expect(String(missing!.detail['message'])).toContain('en_US-nobody-medium.onnx');
    expect(String(missing!.detail['message'])).toMatch(/404/);
    expect(await responseEnds(page)).toEqual([{ text: 'Hello there.', heardText: '', interrupted: true }]);
    await expect(agent.locator('[part="caption"]')).toHaveText(['Agent: Hello there.']);
    await expect(agent.locator('[part="error"]')).toContainText('en_US-nobody-medium');

    await page.evaluate(() => document.querySelector('voice-agent')!.setAttribute('voice', 'joe'));
    await sayInPage(page, 'Second try.');
    const invalid = (await recordedEvents(page, 'voice-error'))[1]!;
    expect(invalid.detail).toMatchObject({ code: 'voice-invalid' });
    expect(String(invalid.detail['message'])).toContain('"joe"');
    await expect(agent.locator('[part="caption"]')).toHaveText(['Agent: Hello there.', 'Agent: Second try.']);
    expect(await agentState(page)).toBe('idle');
  } finally {
    await opened.close();
  }
});

for (const corrupt of [
  { file: 'en_US-joe-medium.onnx', body: Buffer.from('this is not an onnx model'.repeat(100)) },
  { file: 'en_US-joe-medium.onnx.json', body: Buffer.from('{"audio": {"sample_rate": 22050}, "espeak": ') },
]) {
  test(`a corrupt ${corrupt.file} → voice-error naming it`, async () => {
    const opened = await openSpeakingPage();
    try {
      const { page, context } = opened;
      await context.route(new RegExp(`/${corrupt.file.replace(/\./g, '\\.')}$`), (route) =>
        route.fulfill({ status: 200, contentType: 'application/octet-stream', body: corrupt.body }),
      );
      await sayInPage(page, 'Can you hear me?');
      const errors = await recordedEvents(page, 'voice-error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.detail).toMatchObject({ code: 'model-load-failed' });
      expect(String(errors[0]!.detail['message'])).toContain(corrupt.file);
      expect(await responseEnds(page)).toEqual([{ text: 'Can you hear me?', heardText: '', interrupted: true }]);
      await expect(page.locator('voice-agent').locator('[part="caption"]')).toHaveText(['Agent: Can you hear me?']);
    } finally {
      await opened.close();
    }
  });
}

test('text with characters the voice cannot say is spoken without them (single-threaded page)', async () => {
  const opened = await openSpeakingPage({ isolated: false });
  try {
    const { page } = opened;
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const text = 'Good morning ☃ ⺁ ∰ 🙂! Here is the `code` you asked for: **done**.';
    await sayInPage(page, text);
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    expect(await responseEnds(page)).toEqual([{ text, heardText: text, interrupted: false }]);
    const captured = await readCapturedAudio(page);
    const transcript = await transcribe(captured.samples, captured.sampleRateHz);
    console.log(`Whisper heard: "${transcript}"`);
    expect(normalizeWords(transcript)).toEqual(expect.arrayContaining(['good', 'morning', 'code', 'done']));
    // Markup was not read out.
    expect(transcript.toLowerCase()).not.toMatch(/asterisk|backtick|star|letter|snowman|integral|smil/);
  } finally {
    await opened.close();
  }
});

test('in a spoken conversation listening resumes after the agent has spoken', async () => {
  const wav = writeWav(join(SCRATCH_DIR, 'silence-20s.wav'), { sampleRateHz: 16_000, samples: silence(20, 16_000) });
  const opened = await openSpeakingPage({ micWav: wav, body: `<voice-agent debug model-base-url="${ORIGIN}/models"></voice-agent>` });
  try {
    const { page } = opened;
    await startAgent(page);
    expect(await agentState(page)).toBe('listening');
    await sayInPage(page, 'I am listening again after this.');
    expect(await agentState(page)).toBe('listening');
    const states = (await recordedEvents(page, 'voice-state-change')).map((e) => e.detail['state']);
    expect(states).toEqual(['loading', 'listening', 'speaking', 'listening']);
    // The talk button still means "stop listening" while the agent speaks.
    const speaking = sayInPage(page, 'And now I stop, because you pressed the button while I was talking.');
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('speaking');
    await expect(page.locator('voice-agent').locator('[part="button"]')).toHaveAccessibleName('Stop listening');
    await page.locator('voice-agent').locator('[part="button"]').click();
    await speaking;
    expect(await agentState(page)).toBe('idle');
    expect((await responseEnds(page)).at(-1)!.interrupted).toBe(true);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __streams: MediaStream[] }).__streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length))
      .toBe(0);
  } finally {
    await opened.close();
  }
});

test('hundreds of clauses in one visit: no clause is lost to the phonemizer wearing out', async () => {
  // espeak-ng as piper-tts-web runs it wears out after some 80–150 calls in one worker
  // (workers/espeak-phonemizer.ts; in a 10-minute soak it failed twice). 50 replies of four
  // clauses each, every clause synthesized before the reply is cut: 200 phonemizer calls,
  // about as many as 20 minutes of conversation.
  const reply = 'Sure, here is the answer. The harbour ferry leaves every hour, and the last one goes at nine in the evening.';
  const clauses = splitClauses(reply).filter((clause) => clause.speech).length;
  expect(clauses).toBe(4);
  const opened = await openSpeakingPage();
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const outcome = await page.evaluate(
      async ({ text, perReply }) => {
        const w = window as unknown as { __ttsChunks: unknown[] };
        const agent = document.querySelector('voice-agent')!;
        let errors = 0;
        agent.addEventListener('voice-error', () => errors++);
        let synthesized = 0;
        for (let i = 0; i < 50 && errors === 0; i++) {
          const before = w.__ttsChunks.length;
          const said = agent.say(text);
          const started = performance.now();
          while (w.__ttsChunks.length < before + perReply && errors === 0 && performance.now() - started < 30_000) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          synthesized += w.__ttsChunks.length - before;
          agent.interrupt();
          await said;
        }
        return { synthesized, errors };
      },
      { text: reply, perReply: clauses },
    );
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    expect(outcome).toEqual({ synthesized: 50 * clauses, errors: 0 });
  } finally {
    await opened.close();
  }
});
