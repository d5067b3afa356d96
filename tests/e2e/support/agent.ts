/**
 * Page-side helpers shared by the end-to-end specs: start the element, wait for the fake
 * microphone to finish playing, read back the turns' audio.
 */
import { expect, type Frame, type Page } from '@playwright/test';
import { recordedEvents } from './browser.ts';
import { normalizeForWer } from './wer.ts';

/** Calls `start()` on the (first) element; returns the page time just before. */
export async function startAgent(page: Page | Frame, selector = 'voice-agent'): Promise<number> {
  return page.evaluate(async (s) => {
    const t0 = performance.now();
    await (document.querySelector(s) as HTMLElementTagNameMap['voice-agent']).start();
    return t0;
  }, selector);
}

/** Types `text` into the element's text box and sends it (Enter). */
export async function typeMessage(page: Page | Frame, text: string): Promise<void> {
  const input = page.locator('voice-agent').locator('[part="text-input"]');
  await input.fill(text);
  await input.press('Enter');
}

export function agentState(page: Page | Frame, selector = 'voice-agent'): Promise<string> {
  return page.evaluate((s) => (document.querySelector(s) as HTMLElementTagNameMap['voice-agent']).state, selector);
}

/**
 * Waits until `seconds` have passed since `startedAt` (page time) and no turn is open;
 * `slackSeconds` more are allowed for the recognizer to catch up.
 */
export async function waitForPlayback(page: Page | Frame, startedAt: number, seconds: number, slackSeconds = 30): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(
          ([t0, s]) => performance.now() - t0 > s * 1000 && document.querySelector('voice-agent')!.state === 'listening',
          [startedAt, seconds] as const,
        ),
      { timeout: (seconds + slackSeconds) * 1000, intervals: [250] },
    )
    .toBe(true);
}

/** The audio of every `voice-speech-end` so far, copied out of the page. */
export async function turnAudio(page: Page): Promise<Float32Array[]> {
  const arrays = await page.evaluate(() =>
    (window as unknown as { __turnAudio: Float32Array[] }).__turnAudio.map((a) => Array.from(a)),
  );
  return arrays.map((a) => Float32Array.from(a));
}

/** The codes of the `voice-error` events so far, in order. */
export async function errorCodes(page: Page | Frame): Promise<string[]> {
  return (await recordedEvents(page, 'voice-error')).map((e) => String(e.detail['code']));
}

/** The final transcripts of spoken turns so far, in order. */
export async function finalSpeech(page: Page | Frame): Promise<string[]> {
  return (await recordedEvents(page, 'voice-transcript'))
    .filter((e) => e.detail['final'] && e.detail['source'] === 'speech')
    .map((e) => String(e.detail['text']));
}

/**
 * Waits for the transcript of a turn cut off part-way (the microphone went, the capture was
 * suspended) and checks it: at least three words, fewer than the whole `reference`
 * sentence, and mostly words from it.
 */
export async function expectHeardPartOf(page: Page | Frame, reference: string): Promise<void> {
  await expect.poll(() => finalSpeech(page), { timeout: 60_000 }).not.toEqual([]);
  const words = normalizeForWer((await finalSpeech(page)).join(' '));
  const known = new Set(normalizeForWer(reference));
  expect(words.length, words.join(' ')).toBeGreaterThanOrEqual(3);
  expect(words.length, words.join(' ')).toBeLessThan(normalizeForWer(reference).length);
  expect(words.filter((w) => known.has(w)).length / words.length, words.join(' ')).toBeGreaterThanOrEqual(0.6);
}

/**
 * The next visit: reloads the page (same profile, so the same Cache Storage), starts
 * listening while the fake mic plays `seconds` of speech, and expects exactly one final
 * transcript containing `words` and no `voice-error`.
 */
export async function reloadAndHearOneTurn(page: Page, seconds: number, words: string): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
  const t0 = await startAgent(page);
  await waitForPlayback(page, t0, seconds + 0.5, 90);
  await expect.poll(() => finalSpeech(page), { timeout: 60_000 }).toHaveLength(1);
  expect((await finalSpeech(page))[0]!.toLowerCase()).toContain(words);
  expect(await errorCodes(page)).toEqual([]);
}
