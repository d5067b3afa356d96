/**
 * A cold page: no preload(), an empty browser cache, and the visitor talks as soon as the
 * microphone opens. start() loads the recognizer, the voice and the detector together;
 * the question spoken before the recognizer is ready waits for it, and the first answer
 * (from the scripted LLM server) reaches the speakers whole, from its first word.
 */
import { expect, test } from '@playwright/test';
import { startAgent } from './support/agent.ts';
import { AUDIO_TAP_SCRIPT, readCapturedAudio } from './support/audio-tap.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';
import { responseEnds } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

// No numbers: Whisper writes them as digits, which would blur the first-words check.
const REPLY = 'Sure, I can help you with that. The garden is open every morning, and the gate is by the old oak tree.';

test('on a cold page the first spoken question is answered, and the answer plays whole from its first word', async () => {
  llm().script({ text: REPLY, tokenDelayMs: 20 });
  // Speech starts 0.3 s after the microphone opens: before the recognizer has loaded.
  const { path } = paddedFixture('english-other/en_goforward.wav', 0.3, 8);
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup(`llm-url="${llm().url}"`),
    initScripts: [AUDIO_TAP_SCRIPT],
    permissions: ['local-network-access'],
  });
  try {
    const { page } = opened;
    await startAgent(page);
    await expect.poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] }).toHaveLength(1);

    // The question was not lost while the recognizer loaded.
    const [request] = llm().requests;
    expect(wordErrorRate('go forward ten meters', request!.body!.messages!.at(-1)!.content).wer).toBeLessThan(0.5);
    // The voice began loading with start(), not after the visitor's turn was transcribed.
    const events = await recordedEvents(page);
    const firstVoiceProgress = events.findIndex((e) => e.type === 'voice-model-progress' && e.detail['model'] === 'tts');
    const firstTranscript = events.findIndex((e) => e.type === 'voice-transcript');
    expect(firstVoiceProgress).toBeGreaterThanOrEqual(0);
    expect(firstVoiceProgress).toBeLessThan(firstTranscript);
    // The whole reply reached the speakers, its first words included.
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    const captured = await readCapturedAudio(page);
    const heard = await transcribe(captured.samples, captured.sampleRateHz);
    console.log(`Whisper heard: "${heard}"`);
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.15);
    // The opening clause, synthesized while the other models were still loading, is intact.
    const firstWords = wordErrorRate('Sure, I can help you', heard.split(/\s+/).slice(0, 5).join(' '));
    expect(firstWords.wer, heard).toBeLessThanOrEqual(0.2);
  } finally {
    await opened.close();
  }
});

test('a second visit loads the voice, Silero VAD and Smart Turn from Cache Storage, not the network', async () => {
  const opened = await openAgentPage({ body: agentMarkup('end-of-turn="smart-turn"') });
  try {
    const { page } = opened;
    const modelRequests: string[] = [];
    page.on('request', (request) => {
      if (/\.onnx(\.json)?(\?|$)|silero/.test(request.url())) modelRequests.push(request.url());
    });
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const downloaded = [...modelRequests];
    expect(downloaded.some((url) => /silero/.test(url))).toBe(true);
    expect(downloaded.some((url) => /smart-turn/.test(url))).toBe(true);
    expect(downloaded.some((url) => /piper-voices/.test(url))).toBe(true);
    // The cache writes are not waited for by the load: give them a moment to land.
    await expect
      .poll(
        () =>
          page.evaluate(async () => (await (await caches.open('voice-agent-models')).keys()).map((r) => r.url)),
        { timeout: 20_000 },
      )
      .toEqual(expect.arrayContaining(downloaded.filter((url) => !/\.wasm|asr|moonshine|whisper/.test(url))));

    // Same profile, next visit: none of them comes over the network again.
    modelRequests.length = 0;
    await page.reload();
    await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    expect(modelRequests.filter((url) => /silero|smart-turn|piper-voices/.test(url))).toEqual([]);
  } finally {
    await opened.close();
  }
});
