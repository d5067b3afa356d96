/**
 * The output AudioContext is suspended while the agent speaks (as the system or the page
 * may do; injected by calling `suspend()` on it from the page). The element reports
 * `audio-blocked`, the reply waits where it is (nothing more is heard, nothing is
 * dropped), and the visitor's next gesture resumes it: `voice-recovered`, and the whole
 * reply reaches the speakers (transcribed back with Whisper).
 */
import { expect, test, type Page } from '@playwright/test';
import { readCapturedAudio } from './support/audio-tap.ts';
import { recordedEvents } from './support/browser.ts';
import { openSpeakingPage, responseEnds, responses, sayInPage } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

const REPLY =
  'The museum opens at ten in the morning. On weekends it stays open until eight in the evening, and the garden closes an hour earlier.';

async function heardSoFar(page: Page): Promise<string> {
  return (await responses(page)).at(-1)?.text ?? '';
}

test('an output suspended mid-reply is reported, waits, and plays the rest after the next click', async () => {
  const opened = await openSpeakingPage();
  try {
    const { page } = opened;
    const spoken = sayInPage(page, REPLY);
    // The first words have been heard: the output is running.
    await expect.poll(() => heardSoFar(page), { timeout: 90_000, intervals: [100] }).not.toBe('');

    // Fault injection: the output context is suspended from outside (not by the element).
    await page.evaluate(async () => {
      const contexts = (window as unknown as { __audioContexts: AudioContext[] }).__audioContexts;
      await contexts.filter((c) => c.state !== 'closed').at(-1)!.suspend();
    });
    await expect.poll(async () => (await recordedEvents(page, 'voice-error')).map((e) => e.detail['code'])).toEqual(['audio-blocked']);
    await expect(page.locator('voice-agent').locator('[part="error"]')).toContainText(/click/i);

    // While blocked the reply stands still: no more of it is heard, and it has not ended.
    const before = await heardSoFar(page);
    await page.waitForTimeout(2000);
    expect(await heardSoFar(page)).toBe(before);
    expect(before.length).toBeLessThan(REPLY.length);
    expect(await responseEnds(page)).toEqual([]);

    // The visitor's next gesture resumes the output, and the reply plays to its end.
    await page.mouse.click(5, 5);
    await expect.poll(async () => (await recordedEvents(page, 'voice-recovered')).map((e) => e.detail)).toEqual([
      { code: 'audio-blocked' },
    ]);
    await spoken;
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    await expect(page.locator('voice-agent').locator('[part="error"]')).toBeHidden();
    const captured = await readCapturedAudio(page);
    const heard = await transcribe(captured.samples, captured.sampleRateHz);
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.2);
  } finally {
    await opened.close();
  }
});

test('a page the visitor has not touched (autoplay blocked): say() is reported as audio-blocked and spoken after the first click', async () => {
  // Nothing may evaluate in the page before the click: Playwright's evaluate gives the page
  // user activation. So say() runs from a timer, and the page reports over the console.
  const sayOnLoad = `addEventListener('load', () => setTimeout(() => {
    console.log('activated before say: ' + navigator.userActivation.hasBeenActive);
    document.querySelector('voice-agent').say(${JSON.stringify(REPLY)});
  }, 200));
  document.addEventListener('voice-error', (e) => console.log('voice-error: ' + e.detail.code));`;
  const opened = await openSpeakingPage({
    initScripts: [sayOnLoad],
    extraArgs: ['--autoplay-policy=document-user-activation-required'],
    waitForElement: false,
  });
  try {
    const { page } = opened;
    const logged: string[] = [];
    page.on('console', (message) => logged.push(message.text()));
    await expect.poll(() => logged.filter((line) => line.startsWith('voice-error')), { timeout: 90_000 }).toEqual([
      'voice-error: audio-blocked',
    ]);
    expect(logged).toContain('activated before say: false');

    await page.mouse.click(5, 5);
    await expect.poll(async () => (await recordedEvents(page, 'voice-recovered')).map((e) => e.detail), { timeout: 30_000 }).toEqual([
      { code: 'audio-blocked' },
    ]);
    await expect.poll(() => responseEnds(page), { timeout: 90_000, intervals: [500] }).toEqual([
      { text: REPLY, heardText: REPLY, interrupted: false },
    ]);
    expect((await recordedEvents(page, 'voice-error')).map((e) => e.detail['code'])).toEqual(['audio-blocked']);
    const captured = await readCapturedAudio(page);
    const heard = await transcribe(captured.samples, captured.sampleRateHz);
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.2);
  } finally {
    await opened.close();
  }
});
