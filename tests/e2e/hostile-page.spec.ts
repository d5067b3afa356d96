/**
 * A hostile host page (README "Reliability", row 35): global CSS and monkey-patched
 * globals of the kinds real third-party pages carry, installed before the element loads.
 * The element must still render visibly (its button visible and clickable, its text
 * readable) and complete a spoken turn — real Silero, Whisper and Piper, the scripted LLM.
 *
 * Every rule and patch below is something a real page does; each comment says which.
 * Left out, because no component could reasonably survive them (README "Reliability"):
 * `Object.prototype.then` (every object becomes a thenable, so `await` of any object hangs),
 * Prototype.js 1.6's `Array.prototype.toJSON` (`JSON.stringify` of every array gives a
 * string: every JSON body on the page is wrong), and `* { display: none !important }`.
 */
import { expect, test } from '@playwright/test';
import { AUDIO_TAP_SCRIPT, readCapturedAudio } from './support/audio-tap.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { soundSpan } from './support/audio-analysis.ts';
import { useLlmServer } from './support/llm-server.ts';
import { responseEnds } from './support/speech.ts';
import { paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

const REPLY = 'Go straight ahead for ten meters, then turn left at the fountain.';

/** The page's own stylesheet. None of it is aimed at the element; all of it reaches it. */
const HOSTILE_CSS = `
  /* An aggressive global reset ("the new CSS reset" kind): it matches the element's host
     too, and the page's rules beat the element's own :host rules. */
  *:where(:not(html, iframe, canvas, img, svg, video, audio):not(svg *, symbol *)) { all: unset; display: revert; }
  /* The inline-block whitespace hack: text zeroed on body, set back per component. */
  body { font-size: 0; line-height: 0; }
  /* Left behind by a modal library (the page is inert; a long-standing Radix Dialog bug). */
  body { pointer-events: none; }
  /* A "root em = 10px" site. */
  html { font-size: 62.5%; }
  /* Site typography that inherits into everything. */
  body { text-transform: uppercase; letter-spacing: 0.4em; white-space: nowrap; color: #333; }
  /* Site rules for plain tags and ARIA roles: they must not reach into a shadow root. */
  button, input, form, ol, li, div, span, svg, progress { display: none !important; }
  [role="status"], [role="alert"], [aria-live] { display: none !important; }
  * { transition: none !important; animation: none !important; box-sizing: content-box !important; }
`;

/**
 * Globals patched before the element's script runs (an init script runs before the page's
 * own). Each records that it ran, so the test can show the element went through it.
 */
const HOSTILE_GLOBALS = `(() => {
  const log = (window.__hostile = { fetches: [], thens: 0, listeners: 0, maps: 0, parses: 0, timeouts: 0, consoleErrors: [] });

  // Analytics / APM (Sentry, Datadog RUM, New Relic) wrap fetch to time requests; it still works.
  const nativeFetch = window.fetch;
  window.fetch = function loggedFetch(input, init) {
    log.fetches.push(String(input && input.url ? input.url : input));
    return nativeFetch.apply(this, arguments);
  };

  // zone.js (Angular): then-callbacks wrapped to run "in a zone", setTimeout wrapped, and the
  // global Promise replaced by its own class (async functions still return native promises).
  const then = Promise.prototype.then;
  Promise.prototype.then = function (onFulfilled, onRejected) {
    log.thens++;
    const wrap = (f) => (typeof f === 'function' ? function (value) { return f.call(this, value); } : f);
    return then.call(this, wrap(onFulfilled), wrap(onRejected));
  };
  window.Promise = class ZoneAwarePromise extends Promise {};
  const nativeSetTimeout = window.setTimeout;
  window.setTimeout = function (handler, ms, ...args) {
    log.timeouts++;
    return nativeSetTimeout.call(window, typeof handler === 'function' ? () => handler(...args) : handler, ms);
  };

  // Error monitors and zone.js wrap every listener (try/catch, context), keeping a map so
  // removeEventListener still finds the wrapper.
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const wrappers = new WeakMap();
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    log.listeners++;
    if (typeof listener !== 'function') return add.call(this, type, listener, options);
    let wrapper = wrappers.get(listener);
    if (!wrapper) {
      wrapper = function (event) { return listener.call(this, event); };
      wrappers.set(listener, wrapper);
    }
    return add.call(this, type, wrapper, options);
  };
  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    return remove.call(this, type, (typeof listener === 'function' && wrappers.get(listener)) || listener, options);
  };

  // Prototype.js 1.7 (still on Jira-era and Magento 1 pages): Array.from = $A, which knows
  // array-likes only (no iterables, no map function), and enumerable Array.prototype extras.
  Array.from = function $A(iterable) {
    if (!iterable) return [];
    if ('toArray' in Object(iterable)) return iterable.toArray();
    let length = iterable.length || 0;
    const results = new Array(length);
    while (length--) results[length] = iterable[length];
    return results;
  };
  Array.prototype.first = function () { return this[0]; };
  Array.prototype.last = function () { return this[this.length - 1]; };
  Array.prototype.compact = function () { return this.filter((x) => x != null); };
  // An old polyfill that replaced the native map with its own (correct, slower).
  Array.prototype.map = function map(fn, thisArg) {
    log.maps++;
    const out = new Array(this.length);
    for (let i = 0; i < this.length; i++) if (i in this) out[i] = fn.call(thisArg, this[i], i, this);
    return out;
  };

  // Prototype pollution through a vulnerable deep merge of the query string
  // (?__proto__[debug]=1&__proto__[polluted]=yes): every object now has these keys.
  Object.prototype.debug = '1';
  Object.prototype.polluted = 'yes';

  // A logging JSON.parse.
  const parse = JSON.parse;
  JSON.parse = function (text, reviver) {
    log.parses++;
    return parse.call(this, text, reviver);
  };

  // Bundler shims (webpack 4, Vite "define") and RequireJS's AMD define on the page: UMD
  // code that checks for them takes the CommonJS or AMD path.
  window.process = { env: { NODE_ENV: 'production' }, browser: true, version: '' };
  window.global = window;
  window.define = function define() { log.amd = (log.amd || 0) + 1; };
  window.define.amd = { jQuery: true };

  // A "no console errors" policy (a dev overlay left in production): console.error throws.
  console.error = (...args) => {
    log.consoleErrors.push(args.map(String).join(' '));
    throw new Error('console.error is forbidden on this page');
  };
})();`;

test('a hostile host page (global CSS, patched fetch/Promise/listeners/Array/JSON, polluted Object.prototype): the element shows, its button is clickable, and a spoken turn is heard and answered', async () => {
  llm().script({ text: REPLY, tokenDelayMs: 30 });
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 8);
  const opened = await openAgentPage({
    micWav: path,
    body: `<style>${HOSTILE_CSS}</style><button id="page-button">Page button</button><main>${agentMarkup(`llm-url="${llm().url}"`)}</main>`,
    initScripts: [AUDIO_TAP_SCRIPT, HOSTILE_GLOBALS],
    permissions: ['local-network-access'],
  });
  const pageErrors: string[] = [];
  opened.page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    const { page } = opened;
    const agent = page.locator('voice-agent');

    // The hostile rules are in force on the page and on the host itself.
    await expect(page.locator('#page-button')).toBeHidden();
    const host = await agent.evaluate((el) => {
      const s = getComputedStyle(el);
      return { fontSize: s.fontSize, lineHeight: s.lineHeight, pointerEvents: s.pointerEvents };
    });
    expect(host).toEqual({ fontSize: '0px', lineHeight: '0px', pointerEvents: 'none' });

    // The element renders: its button is visible, of a usable size, and takes a real click
    // (Playwright clicks only once the button is the hit target at its centre).
    const button = agent.locator('[part="button"]');
    await expect(button).toBeVisible();
    const box = (await button.boundingBox())!;
    expect(Math.min(box.width, box.height)).toBeGreaterThanOrEqual(24);
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await button.click({ timeout: 10_000 });

    // A spoken turn: heard, answered, spoken.
    await expect.poll(() => responseEnds(page), { timeout: 90_000, intervals: [500] }).toHaveLength(1);
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    const transcripts = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final']);
    expect(transcripts).toHaveLength(1);
    expect(wordErrorRate('go forward ten meters', String(transcripts[0]!.detail['text'])).wer).toBeLessThan(0.5);
    await expect.poll(() => page.evaluate(() => document.querySelector('voice-agent')!.state), { timeout: 30_000 }).toBe('listening');
    const captured = await readCapturedAudio(page);
    const spoken = soundSpan(captured.samples, captured.sampleRateHz);
    expect(spoken && (spoken.end - spoken.start) / captured.sampleRateHz, 'seconds of audible answer').toBeGreaterThan(2);

    // Its text is readable: status and captions have a real size, line height and colour,
    // and the page's transforms did not get in.
    const texts = await agent.evaluate((el) =>
      ['[part="status"]', '[part="caption"]'].map((selector) => {
        const node = el.shadowRoot!.querySelector(selector)!;
        const s = getComputedStyle(node);
        const rect = node.getBoundingClientRect();
        return { selector, fontSize: parseFloat(s.fontSize), lineHeight: s.lineHeight, color: s.color, textTransform: s.textTransform, height: rect.height, text: node.textContent!.trim() };
      }),
    );
    for (const t of texts) {
      expect(t.fontSize, JSON.stringify(t)).toBeGreaterThanOrEqual(10);
      expect(t.height, JSON.stringify(t)).toBeGreaterThanOrEqual(10);
      expect(t.lineHeight, JSON.stringify(t)).not.toBe('0px');
      expect(t.color, JSON.stringify(t)).not.toMatch(/rgba\([^)]*,\s*0\)|transparent/);
      expect(t.textTransform, JSON.stringify(t)).toBe('none');
      expect(t.text.length).toBeGreaterThan(0);
    }
    const captions = await agent.locator('[part="caption"]').allTextContents();
    expect(captions.join(' ')).toContain('ten meters, then turn left');
    await expect(agent.locator('[part="caption"]').first()).toBeVisible();
    // The send button and text box are there too (the site's `button, input` rule stays outside).
    await expect(agent.locator('[part="send-button"]')).toBeVisible();
    await expect(agent.locator('[part="text-input"]')).toBeVisible();

    // The patches were live on the element's own paths, and nothing failed.
    const hostile = await page.evaluate(() => (window as unknown as { __hostile: { fetches: string[]; thens: number; listeners: number; maps: number; consoleErrors: string[] } }).__hostile);
    expect(hostile.fetches.some((url) => url.startsWith(llm().url)), JSON.stringify(hostile.fetches)).toBe(true);
    expect(hostile.thens).toBeGreaterThan(0);
    expect(hostile.listeners).toBeGreaterThan(0);
    expect(hostile.maps).toBeGreaterThan(0);
    expect(hostile.consoleErrors).toEqual([]);
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    // The polluted `debug` key did not switch diagnostics on (the element has no `debug` attribute).
    expect(await page.evaluate(() => (window as unknown as { __debug: unknown[] }).__debug.length)).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(llm().requests).toHaveLength(1);
    expect(llm().requests[0]!.body!.messages!.at(-1)!.role).toBe('user');
  } finally {
    await opened.close();
  }
});
