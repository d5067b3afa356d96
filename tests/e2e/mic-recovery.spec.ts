/**
 * The microphone goes away mid-session, injected at the browser boundary: its track's
 * `ended` event (an unplugged device or revoked permission), or `track.stop()` from
 * outside (which fires no event). Real Silero, Whisper and Piper models; the fake mic
 * plays real recordings; a scripted LLM server answers.
 *
 * The element reports `mic-ended`, stops listening, and still transcribes and answers the
 * turn it had captured (even one the visitor was in the middle of); it listens again on
 * the default device when one appears (`devicechange`) or on the next press
 * (`voice-recovered`). On a page left open across a redeploy, the fresh workers' code is
 * gone: the error says to reload the page.
 */
import { expect, test, type Page } from '@playwright/test';
import { agentState, errorCodes, expectHeardPartOf, finalSpeech, startAgent } from './support/agent.ts';
import { agentMarkup, openAgentPage, recordedEvents, resourceCounts } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';
import { responseEnds } from './support/speech.ts';
import { paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 240_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);
const LOCAL_NETWORK = ['local-network-access'];
const REPLY = 'Going forward now, ten meters it is.';




function gumCalls(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __gumCalls: number }).__gumCalls);
}

test('the track ends right after a turn: the turn is still transcribed and answered, and a devicechange listens again', async () => {
  llm().script({ text: REPLY });
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 6);
  // Fault injection: the moment the first turn is captured, its track reports `ended`.
  const endTrackAfterFirstTurn = `document.addEventListener('voice-speech-end', () => {
    const track = window.__streams.at(-1).getAudioTracks()[0];
    track.dispatchEvent(new Event('ended'));
  }, { once: true });`;
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup(`llm-url="${llm().url}"`),
    initScripts: [endTrackAfterFirstTurn],
    permissions: LOCAL_NETWORK,
  });
  try {
    const { page } = opened;
    await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 60_000 }).toEqual(['mic-ended']);
    // Listening stopped at once: the microphone is released.
    await expect.poll(() => resourceCounts(page).then((c) => c.liveTracks)).toBe(0);
    await expect(page.locator('voice-agent').locator('[part="error"]')).toContainText(/microphone stopped/i);

    // …but the captured turn is transcribed, sent to the LLM and answered aloud.
    await expect.poll(() => finalSpeech(page), { timeout: 60_000 }).toHaveLength(1);
    const [heard] = await finalSpeech(page);
    expect(wordErrorRate('go forward ten meters', heard!).wer, heard).toBeLessThan(0.5);
    await expect.poll(() => responseEnds(page), { timeout: 90_000, intervals: [500] }).toEqual([
      { text: REPLY, heardText: REPLY, interrupted: false },
    ]);
    expect(llm().requests.at(-1)!.body!.messages!.at(-1)!.content).toBe(heard);
    await expect.poll(() => agentState(page)).toBe('idle');
    expect(await gumCalls(page)).toBe(1);

    // A microphone appears (the device list changed): the element listens again on its own.
    await page.evaluate(() => navigator.mediaDevices.dispatchEvent(new Event('devicechange')));
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    expect(await gumCalls(page)).toBe(2);
    expect((await recordedEvents(page, 'voice-recovered')).map((e) => e.detail)).toEqual([{ code: 'mic-ended' }]);
    await expect(page.locator('voice-agent').locator('[part="error"]')).toBeHidden();
    // And it really hears: the fake device plays its recording again, a second turn is answered.
    await expect.poll(() => finalSpeech(page), { timeout: 60_000 }).toHaveLength(2);
    await expect.poll(() => llm().requests.length, { timeout: 30_000 }).toBe(2);
  } finally {
    await opened.close();
  }
});

test('track.stop() from outside in the middle of a turn: what was said so far is transcribed; the next press listens again', async () => {
  const { path } = paddedFixture('librispeech/test-other/ls_test-other_1998-15444-0003.wav', 1, 3);
  const reference = 'IN MAKING A POST MORTEM EXAMINATION THE ALIMENTARY CANAL SHOULD BE REMOVED AND PRESERVED FOR FURTHER INVESTIGATION';
  // Fault injection: well into the visitor's first turn, something stops the track (no event fires).
  const stopTrackMidTurn = `document.addEventListener('voice-speech-start', () => {
    setTimeout(() => window.__streams.at(-1).getAudioTracks()[0].stop(), 1500);
  }, { once: true });`;
  const opened = await openAgentPage({ micWav: path, initScripts: [stopTrackMidTurn] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 60_000 }).toEqual(['mic-ended']);
    await expect.poll(() => agentState(page)).toBe('error');
    // The open turn was closed with what had been captured (the mic went mid-way), and transcribed.
    await expectHeardPartOf(page, reference);
    expect(await resourceCounts(page).then((c) => c.liveTracks)).toBe(0);

    // The next press asks for the (default) microphone again.
    await page.locator('voice-agent').locator('[part="button"]').click();
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    expect(await gumCalls(page)).toBe(2);
    expect((await recordedEvents(page, 'voice-recovered')).map((e) => e.detail)).toEqual([{ code: 'mic-ended' }]);
    expect(await resourceCounts(page).then((c) => c.liveTracks)).toBeGreaterThan(0);
  } finally {
    await opened.close();
  }
});

test('a page left open across a redeploy: when the microphone comes back, the missing worker code is reported with "reload the page"', async () => {
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 6);
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page, context } = opened;
    // Everything loaded, as on a page that has been open a while.
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await startAgent(page);
    await expect.poll(() => agentState(page), { timeout: 60_000 }).toBe('listening');
    // The site is redeployed: the hashed files this page was built with are gone (404).
    const refused: string[] = [];
    await context.route(/\/assets\//, (route) => {
      refused.push(new URL(route.request().url()).pathname);
      return route.fulfill({ status: 404, body: 'Not found' });
    });
    // The microphone goes and comes back: listening again needs fresh workers.
    await page.evaluate(() =>
      (window as unknown as { __streams: MediaStream[] }).__streams.at(-1)!.getAudioTracks()[0]!.dispatchEvent(new Event('ended')),
    );
    await expect.poll(() => errorCodes(page), { timeout: 60_000 }).toContain('mic-ended');
    await page.evaluate(() => navigator.mediaDevices.dispatchEvent(new Event('devicechange')));

    await expect.poll(() => errorCodes(page), { timeout: 30_000 }).toContain('worker-failed');
    await expect.poll(() => agentState(page)).toBe('error');
    expect(refused.some((p) => /\.worker-/.test(p)), refused.join(', ')).toBe(true);
    const failures = (await recordedEvents(page, 'voice-error')).map((e) => e.detail).filter((d) => d['code'] === 'worker-failed');
    for (const failure of failures) expect(String(failure['message'])).toMatch(/code could not be loaded.*reload the page/);
    await expect(page.locator('voice-agent').locator('[part="error"]')).toContainText(/reload the page/);
  } finally {
    await opened.close();
  }
});
