/**
 * Two `<voice-agent>` elements on one page share one microphone: the one pressed last
 * takes it, the other stops listening and is told why (`mic-taken-over`); what one hears
 * never reaches the other; removing one releases only its own resources.
 * Real models; the fake mic plays a real recording.
 */
import { expect, test, type Page } from '@playwright/test';
import { agentState, errorCodes, finalSpeech } from './support/agent.ts';
import { TEST_MODELS, openAgentPage, resourceCounts } from './support/browser.ts';
import { paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 240_000 });

/** Every event with the id of the element it came from. */
const PER_ELEMENT_RECORDER = `(() => {
  window.__byAgent = [];
  for (const type of ['voice-error', 'voice-transcript', 'voice-state-change', 'voice-speech-end', 'voice-response-end']) {
    document.addEventListener(type, (e) => window.__byAgent.push({ id: e.target.id, type, detail: { ...e.detail, audio: undefined } }));
  }
})();`;

type Recorded = { id: string; type: string; detail: Record<string, unknown> };

function eventsOf(page: Page, id: string, type: string): Promise<Recorded['detail'][]> {
  return page.evaluate(
    ([id, type]) =>
      (window as unknown as { __byAgent: Recorded[] }).__byAgent.filter((e) => e.id === id && e.type === type).map((e) => e.detail),
    [id, type] as const,
  );
}

function button(page: Page, id: string) {
  return page.locator(`#${id}`).locator('[part="button"]');
}

test('the element pressed last takes the microphone; the other stops and says why; no bleed; removal frees only its own', async () => {
  // 8 s of silence first: both elements must be listening (VAD loaded, mic handed over)
  // before the visitor speaks, which takes seconds on a loaded 2-core machine.
  const { path } = paddedFixture('english-other/en_goforward.wav', 8, 6);
  const opened = await openAgentPage({
    micWav: path,
    body: `<voice-agent id="first" ${TEST_MODELS}></voice-agent><voice-agent id="second" ${TEST_MODELS}></voice-agent>`,
    initScripts: [PER_ELEMENT_RECORDER],
  });
  try {
    const { page } = opened;
    await button(page, 'first').click();
    await expect.poll(() => agentState(page, '#first'), { timeout: 30_000 }).toBe('listening');

    // The visitor presses the second one: it takes the microphone, the first is told and stops.
    await button(page, 'second').click();
    await expect.poll(() => agentState(page, '#second'), { timeout: 30_000 }).toBe('listening');
    await expect.poll(() => agentState(page, '#first')).toBe('idle');
    expect((await eventsOf(page, 'first', 'voice-error')).map((d) => d['code'])).toEqual(['mic-taken-over']);
    await expect(page.locator('#first').locator('[part="error"]')).toContainText(/another voice assistant/i);
    await expect(button(page, 'first')).toHaveAttribute('aria-pressed', 'false');
    expect(await eventsOf(page, 'second', 'voice-error')).toEqual([]);
    // One microphone track is live: the second element's.
    await expect.poll(() => resourceCounts(page).then((c) => c.liveTracks)).toBe(1);

    // The visitor speaks: only the element holding the mic hears it.
    await expect.poll(() => eventsOf(page, 'second', 'voice-transcript').then((t) => t.filter((d) => d['final'])), { timeout: 60_000 }).toHaveLength(1);
    const [heard] = (await eventsOf(page, 'second', 'voice-transcript')).filter((d) => d['final']);
    expect(wordErrorRate('go forward ten meters', String(heard!['text'])).wer).toBeLessThan(0.5);
    expect(await eventsOf(page, 'first', 'voice-transcript')).toEqual([]);
    expect(await eventsOf(page, 'first', 'voice-speech-end')).toEqual([]);
    expect(await page.evaluate(() => (document.querySelector('#first') as HTMLElementTagNameMap['voice-agent']).history.length)).toBe(0);
    expect(await page.evaluate(() => (document.querySelector('#second') as HTMLElementTagNameMap['voice-agent']).history.length)).toBe(1);

    // The first one speaks (its own output and voice) while the second is removed.
    const reply = 'Still here, and still speaking after the other one left.';
    const spoken = page.evaluate((text) => (document.querySelector('#first') as HTMLElementTagNameMap['voice-agent']).say(text), reply);
    await expect.poll(() => agentState(page, '#first'), { timeout: 90_000 }).toBe('speaking');
    await page.evaluate(() => document.querySelector('#second')!.remove());
    // The second's microphone, capture context and model workers are gone…
    await expect.poll(() => resourceCounts(page).then((c) => c.liveTracks)).toBe(0);
    // …while the first plays its reply to the end on its own output.
    await spoken;
    expect(await eventsOf(page, 'first', 'voice-response-end')).toEqual([{ text: reply, heardText: reply, interrupted: false, audio: undefined }]);
    const left = await resourceCounts(page);
    expect(left.audioContexts).toBe(1); // the first element's output
    expect(left.workers).toBeGreaterThan(0); // the first element's voice
    expect(await eventsOf(page, 'first', 'voice-error')).toHaveLength(1);

    // The first can take the microphone again, and hears the visitor.
    await button(page, 'first').click();
    await expect.poll(() => agentState(page, '#first'), { timeout: 30_000 }).toBe('listening');
    await expect.poll(() => eventsOf(page, 'first', 'voice-transcript').then((t) => t.filter((d) => d['final'])), { timeout: 60_000 }).toHaveLength(1);
    await page.evaluate(() => (document.querySelector('#first') as HTMLElementTagNameMap['voice-agent']).stop());
    await expect.poll(() => resourceCounts(page)).toEqual({ audioContexts: 0, workers: 0, liveTracks: 0 });
  } finally {
    await opened.close();
  }
});

test('voice-agent.js loaded twice (a second copy, as from a second bundle): the first definition stays, the copy says so on the console, the element works', async () => {
  const { path } = paddedFixture('english-other/en_goforward.wav', 4, 3);
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page, context } = opened;
    const warnings: string[] = [];
    const pageErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A second copy of the whole build under another path: its modules (and its class) are new.
    await context.route('**/copy/**', async (route) => {
      const response = await route.fetch({ url: route.request().url().replace('/copy/', '/') });
      await route.fulfill({ response });
    });
    const sameClass = await page.evaluate(async () => {
      const first = customElements.get('voice-agent');
      const copy = (await import(`${location.origin}/copy/voice-agent.js`)) as { VoiceAgent: CustomElementConstructor };
      return { kept: customElements.get('voice-agent') === first, copyIsOther: copy.VoiceAgent !== first };
    });
    expect(sameClass).toEqual({ kept: true, copyIsOther: true });
    expect(warnings.filter((w) => /another copy of voice-agent\.js/.test(w))).toHaveLength(1);

    // The element on the page is the first copy's, and it hears the visitor.
    await page.locator('voice-agent').locator('[part="button"]').click();
    await expect.poll(() => agentState(page), { timeout: 30_000 }).toBe('listening');
    await expect.poll(() => finalSpeech(page), { timeout: 60_000 }).toHaveLength(1);
    const [heard] = await finalSpeech(page);
    expect(wordErrorRate('go forward ten meters', heard!).wer, heard).toBeLessThan(0.5);
    expect(pageErrors).toEqual([]);
    expect(await errorCodes(page)).toEqual([]);
  } finally {
    await opened.context.unrouteAll({ behavior: 'ignoreErrors' });
    await opened.close();
  }
});
