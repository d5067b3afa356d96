/**
 * The conversation loop end to end: real VAD, Whisper and Piper models in Debian's
 * Chromium, and a real local HTTP server speaking the OpenAI streaming protocol with
 * scripted replies and injected faults (tests/e2e/support/llm-server.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { startAgent } from './support/agent.ts';
import { AUDIO_TAP_SCRIPT, readCapturedAudio } from './support/audio-tap.ts';
import { ORIGIN, agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { useLlmServer, type ScriptedReply } from './support/llm-server.ts';
import { openSpeakingPage, responseEnds } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

/** The visitor lets the page reach a server on this machine (Chromium asks; see README "Answering"). */
const LOCAL_NETWORK = ['local-network-access'];

const REPLY = 'The library opens at nine in the morning, and it closes at six in the evening.';

function history(page: Page) {
  return page.evaluate(() => document.querySelector('voice-agent')!.history.map((e) => ({ ...e })));
}

async function states(page: Page): Promise<string[]> {
  return (await recordedEvents(page, 'voice-state-change')).map((e) => String(e.detail['state']));
}

test('a spoken question is answered out loud: the reply streams from the LLM into speech and transcribes back', async () => {
  llm().script({ text: REPLY, tokenDelayMs: 30 });
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 8);
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup(`llm-url="${llm().url}" system-prompt="Answer briefly."`),
    initScripts: [AUDIO_TAP_SCRIPT],
    permissions: LOCAL_NETWORK,
  });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await startAgent(page);
    await expect.poll(() => responseEnds(page), { timeout: 90_000, intervals: [500] }).toHaveLength(1);

    // The LLM got the visitor's words, after the system prompt.
    const [request] = llm().requests;
    const messages = request!.body!.messages ?? [];
    expect(messages[0]).toEqual({ role: 'system', content: 'Answer briefly.' });
    expect(wordErrorRate('go forward ten meters', messages.at(-1)!.content).wer).toBeLessThan(0.5);
    // What reached the speakers is the scripted reply.
    const captured = await readCapturedAudio(page);
    const heard = await transcribe(captured.samples, captured.sampleRateHz);
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.15);
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    // thinking → speaking → listening, and the history holds both sides.
    const seen = await states(page);
    expect(seen.indexOf('thinking')).toBeGreaterThan(seen.indexOf('transcribing'));
    expect(seen.indexOf('speaking')).toBeGreaterThan(seen.indexOf('thinking'));
    expect(seen.at(-1)).toBe('listening');
    const entries = await history(page);
    expect(entries.map((e) => e.role)).toEqual(['user', 'assistant']);
    expect(entries[1]).toMatchObject({ content: REPLY });
    // One voice-metrics for the answered turn, its stages in order from the end of speech.
    const metrics = (await recordedEvents(page, 'voice-metrics')).map((e) => e.detail);
    expect(metrics).toHaveLength(1);
    const m = metrics[0] as { transcriptMs: number; firstTokenMs: number; firstAudioMs: number; voiceToVoiceMs: number; source: string };
    expect(m.source).toBe('speech');
    expect(m.transcriptMs).toBeGreaterThan(0);
    expect(m.firstTokenMs).toBeGreaterThanOrEqual(m.transcriptMs);
    expect(m.firstAudioMs).toBeGreaterThan(m.firstTokenMs);
    expect(m.voiceToVoiceMs).toBe(m.firstAudioMs);
  } finally {
    await opened.close();
  }
});

/** An LLM fault (`script`: the first reply's; `cors: false`: the server refuses the page's origin) and its code. */
interface LlmFaultCase {
  readonly name: string;
  readonly script?: ScriptedReply;
  readonly cors?: false;
  readonly code: string;
}

for (const fault of <LlmFaultCase[]>[
  { name: '429', script: { fault: { kind: 'status', status: 429, retryAfter: '2' } }, code: 'llm-rate-limited' },
  { name: '500', script: { fault: { kind: 'status', status: 500 } }, code: 'llm-server-error' },
  { name: 'a cut stream', script: { text: REPLY, fault: { kind: 'end-early', afterTokens: 3 } }, code: 'llm-cut-off' },
  // RELIABILITY rows 15 and 17 in the browser (their timeouts, 15 s and 10 s, are the defaults).
  // (No CORS: here Chromium sent the question without a preflight and kept the reply from the page.)
  { name: 'no CORS', cors: false, code: 'llm-unreachable' },
  { name: 'no response', script: { fault: { kind: 'hang' } }, code: 'llm-timeout' },
  { name: 'a stream that stalls', script: { text: REPLY, fault: { kind: 'stall', afterTokens: 3 } }, code: 'llm-stalled' },
]) {
  test(`an LLM failure (${fault.name}) gives ${fault.code}, an apology, a marked turn — and the next turn works`, async () => {
    if (fault.script) llm().script(fault.script);
    // A server that does not allow the page's origin: the browser fails the fetch (a bare TypeError).
    if (fault.cors === false) llm().cors = false;
    const opened = await openSpeakingPage({ attributes: `llm-url="${llm().url}"`, permissions: LOCAL_NETWORK });
    try {
      const { page } = opened;
      await page.evaluate(() => document.querySelector('voice-agent')!.send('first question'));
      await expect
        .poll(async () => (await recordedEvents(page, 'voice-error')).map((e) => e.detail['code']), { timeout: 30_000 })
        .toEqual([fault.code]);
      await expect(page.locator('voice-agent').locator('[part="caption"]').last()).toContainText('Sorry');
      await expect.poll(() => page.evaluate(() => document.querySelector('voice-agent')!.state)).toBe('idle');
      llm().cors = true;

      llm().script({ text: 'Second answer, all good.' });
      await page.evaluate(() => document.querySelector('voice-agent')!.send('second question'));
      await expect.poll(() => responseEnds(page), { timeout: 60_000 }).toContainEqual({
        text: 'Second answer, all good.',
        heardText: 'Second answer, all good.',
        interrupted: false,
      });
      // The failed turn is marked and was not sent to the LLM again.
      const entries = await history(page);
      expect(entries[0]).toMatchObject({ role: 'user', content: 'first question', failed: { code: fault.code } });
      expect(entries.at(-1)).toMatchObject({ role: 'assistant', content: 'Second answer, all good.' });
      const second = (llm().requests.at(-1)!.body!.messages ?? []).map((m) => m.content);
      expect(second).toEqual(['second question']);
    } finally {
      await opened.close();
    }
  });
}

test('voice-turn + respondWith answers from page code: spoken, recorded, and no LLM request', async () => {
  const opened = await openSpeakingPage({
    attributes: `llm-url="${llm().url}"`,
    // Granted, so that "no request" cannot come from the browser blocking it.
    permissions: LOCAL_NETWORK,
    initScripts: [
      `document.addEventListener('voice-turn', (e) => {
        async function* reply() { yield 'From the page: '; yield 'the answer is forty two.'; }
        e.respondWith(reply());
      });`,
    ],
  });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.send('what is the answer?'));
    const text = 'From the page: the answer is forty two.';
    await expect.poll(() => responseEnds(page), { timeout: 60_000 }).toEqual([{ text, heardText: text, interrupted: false }]);
    expect(llm().requests).toHaveLength(0);
    expect((await history(page)).map((e) => e.content)).toEqual(['what is the answer?', text]);
  } finally {
    await opened.close();
  }
});

test('with no responder the element only transcribes (dictation) and makes no request outside its origin', async () => {
  const opened = await openSpeakingPage({ permissions: LOCAL_NETWORK });
  try {
    const { page } = opened;
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(ORIGIN) && !request.url().startsWith('blob:') && !request.url().startsWith('data:')) {
        foreign.push(request.url());
      }
    });
    await page.evaluate(() => document.querySelector('voice-agent')!.send('take a note'));
    await page.waitForTimeout(1500);
    expect(await recordedEvents(page, 'voice-transcript')).toHaveLength(1);
    expect(await recordedEvents(page, 'voice-response')).toEqual([]);
    expect((await history(page)).map((e) => e.role)).toEqual(['user']);
    expect(await states(page)).not.toContain('thinking');
    expect(foreign).toEqual([]);
  } finally {
    await opened.close();
  }
});
