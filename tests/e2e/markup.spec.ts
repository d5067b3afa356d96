/**
 * Transcripts, replies and error messages are text, never HTML: a reply from the LLM, a
 * typed turn and a server's error message full of markup (script, event handlers) show
 * up literally in the element, and nothing in them is parsed or run. Also: every
 * `llm-url` request carries the `max-tokens` limit.
 */
import { expect, test, type Page } from '@playwright/test';
import { useLlmServer } from './support/llm-server.ts';
import { recordedEvents } from './support/browser.ts';
import { openSpeakingPage, responseEnds } from './support/speech.ts';

test.describe.configure({ timeout: 180_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);
const LOCAL_NETWORK = ['local-network-access'];

/** Each vector sets `window.__pwned` if it is ever parsed as HTML and run. */
const REPLY_MARKUP = `Sure. <img src=x onerror="window.__pwned='reply-img'"> and <script>window.__pwned='reply-script'</script> done.`;
const TYPED_MARKUP = `<img src=y onerror="window.__pwned='typed-img'"><svg onload="window.__pwned='typed-svg'"></svg><b>bold</b>`;
const ERROR_MARKUP = `<img src=z onerror="window.__pwned='error-img'">`;

/** Elements that would exist in the shadow DOM (or the page) had any of it been parsed. */
function parsedElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const root = document.querySelector('voice-agent')!.shadowRoot!;
    const tags = 'img, script, svg:not([aria-hidden]), b, iframe';
    return [...root.querySelectorAll(tags), ...document.body.querySelectorAll(tags)].map((e) => e.outerHTML);
  });
}

function captions(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelector('voice-agent')!.shadowRoot!.querySelectorAll('[part="caption"]')].map((c) => c.textContent ?? ''),
  );
}

test('markup in a reply, a typed turn and an error message is shown as text, never parsed or run', async () => {
  llm().script(
    { text: REPLY_MARKUP },
    { fault: { kind: 'status', status: 500, body: JSON.stringify({ error: { message: ERROR_MARKUP } }), contentType: 'application/json' } },
  );
  const opened = await openSpeakingPage({ attributes: `llm-url="${llm().url}" max-tokens="64"`, permissions: LOCAL_NETWORK });
  try {
    const { page } = opened;
    const agent = page.locator('voice-agent');

    // A typed turn, through the element's own text box, answered by the LLM with markup.
    const input = agent.locator('[part="text-input"]');
    await input.fill(TYPED_MARKUP);
    await input.press('Enter');
    await expect.poll(() => responseEnds(page), { timeout: 90_000, intervals: [500] }).toHaveLength(1);
    await expect.poll(() => captions(page)).toEqual([expect.stringContaining(TYPED_MARKUP), expect.stringContaining(REPLY_MARKUP)]);

    // The event payloads carry the text as given.
    const [typed] = await recordedEvents(page, 'voice-transcript');
    expect(typed!.detail).toMatchObject({ text: TYPED_MARKUP, source: 'text' });
    expect((await responseEnds(page))[0]!.text).toBe(REPLY_MARKUP);

    // A server error whose message carries markup: quoted in the error area as text.
    await page.evaluate(() => document.querySelector('voice-agent')!.send('and now?'));
    await expect.poll(async () => (await recordedEvents(page, 'voice-error')).map((e) => e.detail['code'])).toEqual(['llm-server-error']);
    const shown = agent.locator('[part="error"]');
    await expect(shown).toBeVisible();
    await expect(shown).toContainText(ERROR_MARKUP);

    // Nothing was parsed as HTML and no handler ran (an <img src=x> would have failed to
    // load and fired onerror by now; give it time on a busy machine).
    await page.waitForTimeout(2000);
    expect(await parsedElements(page)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned ?? null)).toBeNull();

    // Every request carried the reply limit.
    expect(llm().requests.map((r) => r.body?.['max_tokens'])).toEqual([64, 64]);
  } finally {
    await opened.close();
  }
});
