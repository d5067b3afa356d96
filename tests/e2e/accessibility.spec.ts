/**
 * Accessibility, end to end: axe-core (run in the page, into the element's open shadow
 * root) finds no WCAG 2.0/2.1/2.2 A and AA violations in the element's idle, listening,
 * speaking and error states, in the light and the dark colour scheme; the element works
 * from the keyboard alone — the talk button is the first Tab stop, Enter and Space operate
 * it (hands-free and push-to-talk), its focus ring is visible, and focus stays on it while
 * the state changes; and the text box's border and placeholder contrast, which axe does
 * not measure.
 *
 * Real element, real models (the VAD, the Piper voice from ../shared/models), fake mic
 * playing silence; the failures are the browser's own (a rejected getUserMedia) and a real
 * HTTP server answering 500.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { agentState, startAgent } from './support/agent.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';
import { SCRATCH_DIR, silence, writeWav } from './support/wav.ts';

test.describe.configure({ timeout: 180_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** A silent microphone: the agent listens, hears nothing, and is not interrupted. */
function silentMic(): string {
  return writeWav(join(SCRATCH_DIR, 'a11y-silence-120s.wav'), { sampleRateHz: 16000, samples: silence(120, 16000) });
}

/** Replaces getUserMedia with one that rejects as a visitor's "Block" does. */
const DENY_MIC = `(() => {
  window.__gumCalls = 0;
  navigator.mediaDevices.getUserMedia = async () => {
    window.__gumCalls++;
    throw new DOMException('Permission denied', 'NotAllowedError');
  };
})();`;

/** Long enough that the conversation overflows the captions box (it scrolls) and speaking lasts. */
const LONG_REPLY =
  'Here is the plan for tomorrow. In the morning we walk along the river to the old mill, where the path is flat and shaded. ' +
  'Around noon we stop at the bakery in the village square and buy bread, cheese and a few apples for lunch. ' +
  'In the afternoon the trail climbs gently through the beech forest to a lookout with a view over the whole valley. ' +
  'From there it is an hour downhill to the station, and the last train back leaves a little after six in the evening. ' +
  'Bring water, a light jacket and good shoes, because the forest path can be muddy after rain.';

interface AxeNode {
  target: unknown[];
  html: string;
  failureSummary?: string;
}
interface AxeRule {
  id: string;
  impact?: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}
interface AxeOutcome {
  violations: AxeRule[];
  passes: AxeRule[];
  incomplete: AxeRule[];
}

function formatTarget(target: unknown[]): string {
  // Inside a shadow root axe gives a path: ['voice-agent', 'button'] = host, then inside it.
  return target.map((t) => (Array.isArray(t) ? t.join(' ⟫ ') : String(t))).join(', ');
}

function formatViolations(violations: AxeRule[]): string {
  return violations
    .map(
      (v) =>
        `${v.id} (${v.impact ?? 'n/a'}): ${v.help}\n  ${v.helpUrl}\n` +
        v.nodes
          .map((n) => `  - ${formatTarget(n.target)}\n    ${n.html}\n    ${(n.failureSummary ?? '').replace(/\n/g, '\n    ')}`)
          .join('\n'),
    )
    .join('\n');
}

/** Runs axe on the element (light, then dark colour scheme) and asserts no violations. */
async function expectNoAxeViolations(page: Page, label: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE_PATH });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const outcome = await page.evaluate(async (tags) => {
      const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<AxeOutcome> } }).axe;
      const r = await axe.run({ include: ['voice-agent'] }, { runOnly: { type: 'tag', values: tags } });
      const strip = (rules: AxeRule[]) =>
        rules.map((rule) => ({
          id: rule.id,
          impact: rule.impact,
          help: rule.help,
          helpUrl: rule.helpUrl,
          nodes: rule.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
        }));
      return { violations: strip(r.violations), passes: strip(r.passes), incomplete: strip(r.incomplete) };
    }, WCAG_AA_TAGS);
    const where = `${label}, ${colorScheme}`;
    const checked = outcome.passes.length + outcome.violations.length;
    console.log(
      `axe [${where}]: ${outcome.violations.length} violations, ${outcome.passes.length} rules passed` +
        (outcome.incomplete.length ? `, needs review: ${outcome.incomplete.map((r) => `${r.id}×${r.nodes.length}`).join(' ')}` : ''),
    );
    // Proof that axe looked inside the shadow root: the talk button's or the text box's
    // name was checked there (a host-only run would never see them).
    const shadowTargets = [...outcome.passes, ...outcome.violations]
      .filter((r) => ['button-name', 'label', 'color-contrast'].includes(r.id))
      .flatMap((r) => r.nodes.map((n) => formatTarget(n.target)));
    expect(shadowTargets.some((t) => t.startsWith('voice-agent ⟫')), `axe did not reach the shadow DOM [${where}]`).toBe(true);
    expect(checked).toBeGreaterThan(5);
    expect(outcome.violations, `axe WCAG 2.2 AA violations [${where}]:\n${formatViolations(outcome.violations)}`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}

/** What has focus, looking through the shadow root: `part` of the focused control. */
function focusedPart(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const host = document.querySelector('voice-agent')!;
    if (document.activeElement !== host) return document.activeElement?.tagName.toLowerCase() ?? null;
    return host.shadowRoot!.activeElement?.getAttribute('part') ?? null;
  });
}

/** WCAG relative-luminance contrast between two computed colours (`rgb(…)`/`rgba(…)`). */
const CONTRAST_FN = `(a, b) => {
  const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, bl] = parse(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}`;

/** The focus ring of the focused control: its style, width, and contrast against the element's background. */
function focusRing(page: Page): Promise<{ part: string | null; focusVisible: boolean; style: string; widthPx: number; contrast: number }> {
  return page.evaluate((contrastSource) => {
    const contrast = eval(contrastSource) as (a: string, b: string) => number;
    const host = document.querySelector('voice-agent')!;
    const el = host.shadowRoot!.activeElement as HTMLElement;
    const cs = getComputedStyle(el);
    return {
      part: el.getAttribute('part'),
      focusVisible: el.matches(':focus-visible'),
      style: cs.outlineStyle,
      widthPx: parseFloat(cs.outlineWidth),
      contrast: contrast(cs.outlineColor, getComputedStyle(host).backgroundColor),
    };
  }, CONTRAST_FN);
}

async function expectTalkButtonFocusedAndVisible(page: Page, why: string): Promise<void> {
  expect(await focusedPart(page), `focus after ${why}`).toBe('button');
  const ring = await focusRing(page);
  expect(ring, `focus ring after ${why}`).toMatchObject({ part: 'button', focusVisible: true, style: 'solid' });
  expect(ring.widthPx).toBeGreaterThanOrEqual(2);
  expect(ring.contrast).toBeGreaterThanOrEqual(3);
}

test('axe: idle, listening and speaking have no WCAG 2.2 AA violations (light and dark)', async () => {
  const opened = await openAgentPage({
    micWav: silentMic(),
    // Page code answers typed turns, so the agent speaks without an LLM.
    initScripts: [`document.addEventListener('voice-turn', (e) => e.respondWith(${JSON.stringify(LONG_REPLY)}));`],
  });
  try {
    const { page } = opened;
    expect(await agentState(page)).toBe('idle');
    await expectNoAxeViolations(page, 'idle');

    await startAgent(page);
    expect(await agentState(page)).toBe('listening');
    await expectNoAxeViolations(page, 'listening');

    await page.evaluate(() => document.querySelector('voice-agent')!.send('What is the plan for tomorrow?'));
    await expect.poll(() => agentState(page), { timeout: 120_000, intervals: [100] }).toBe('speaking');
    await expectNoAxeViolations(page, 'speaking');
    // The check above ran while the agent was speaking, not after it.
    expect(await agentState(page)).toBe('speaking');
  } finally {
    await opened.close();
  }
});

test('axe: error states (microphone blocked, LLM failing) have no WCAG 2.2 AA violations (light and dark)', async () => {
  const opened = await openAgentPage({
    body: agentMarkup(`llm-url="${llm().url}"`),
    initScripts: [DENY_MIC],
    permissions: ['local-network-access'],
  });
  llm().script({ fault: { kind: 'status', status: 500 } });
  try {
    const { page } = opened;
    const agent = page.locator('voice-agent');
    await agent.locator('[part="button"]').click();
    await expect.poll(() => agentState(page)).toBe('error');
    await expect(agent.locator('[part="error"]')).toBeVisible();
    await expectNoAxeViolations(page, 'error: mic-permission-denied');

    await page.evaluate(() => document.querySelector('voice-agent')!.send('hello?'));
    await expect
      .poll(async () => (await recordedEvents(page, 'voice-error')).map((e) => e.detail['code']))
      .toEqual(['mic-permission-denied', 'llm-server-error']);
    await expect(agent.locator('[part="error"]')).toBeVisible();
    await expectNoAxeViolations(page, 'error: llm-server-error');
  } finally {
    await opened.close();
  }
});

test('keyboard only: Tab reaches the talk button, Enter and Space operate it, focus stays visible on it', async () => {
  const opened = await openAgentPage({ micWav: silentMic() });
  try {
    const { page } = opened;
    const agent = page.locator('voice-agent');
    const button = agent.locator('[part="button"]');

    await page.keyboard.press('Tab');
    await expectTalkButtonFocusedAndVisible(page, 'the first Tab');
    await expect(button).toHaveAccessibleName('Start talking');

    await page.keyboard.press('Enter');
    await expect.poll(() => agentState(page)).toBe('listening');
    await expect(button).toHaveAccessibleName('Stop listening');
    await expect(button).toHaveAttribute('aria-pressed', 'true');
    await expectTalkButtonFocusedAndVisible(page, 'Enter (idle → loading → listening)');

    await page.keyboard.press('Space');
    await expect.poll(() => agentState(page)).toBe('idle');
    await expect(button).toHaveAttribute('aria-pressed', 'false');
    await expectTalkButtonFocusedAndVisible(page, 'Space (listening → idle)');

    await page.keyboard.press('Space');
    await expect.poll(() => agentState(page)).toBe('listening');
    await expectTalkButtonFocusedAndVisible(page, 'Space again (idle → listening)');

    // On to the text box, type a turn, send it with Enter: focus stays in the box.
    await page.keyboard.press('Tab');
    expect(await focusedPart(page)).toBe('text-input');
    expect((await focusRing(page)).focusVisible).toBe(true);
    expect((await focusRing(page)).style).not.toBe('none');
    await page.keyboard.type('typed by keyboard');
    await page.keyboard.press('Enter');
    await expect(agent.locator('[part="caption"]').first()).toHaveText(/You:\s*typed by keyboard/);
    expect(await focusedPart(page)).toBe('text-input');

    await page.keyboard.press('Tab');
    expect(await focusedPart(page)).toBe('send-button');
    expect((await focusRing(page)).style).not.toBe('none');

    // And back: with a caption shown, the captions box (it scrolls) is a stop on the way.
    await page.keyboard.press('Shift+Tab');
    expect(await focusedPart(page)).toBe('text-input');
    await page.keyboard.press('Shift+Tab');
    expect(await focusedPart(page)).toBe('captions');
    expect(await focusRing(page)).toMatchObject({ focusVisible: true, style: 'solid' });
    await page.keyboard.press('Shift+Tab');
    await expectTalkButtonFocusedAndVisible(page, 'Shift+Tab back');
  } finally {
    await opened.close();
  }
});

test('keyboard only: a blocked microphone leaves focus on the talk button, and Enter retries', async () => {
  const opened = await openAgentPage({ initScripts: [DENY_MIC] });
  try {
    const { page } = opened;
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => agentState(page)).toBe('error');
    await expect(page.locator('voice-agent').locator('[part="error"]')).toBeVisible();
    await expectTalkButtonFocusedAndVisible(page, 'the error');

    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => (window as unknown as { __gumCalls: number }).__gumCalls)).toBe(2);
    await expect.poll(() => recordedEvents(page, 'voice-error').then((e) => e.length)).toBe(2);
    await expectTalkButtonFocusedAndVisible(page, 'the retry');
  } finally {
    await opened.close();
  }
});

test('keyboard only, push-to-talk: holding Space or Enter on the button talks, releasing it stops, focus stays', async () => {
  const opened = await openAgentPage({ micWav: silentMic(), body: agentMarkup('mode="push-to-talk"') });
  try {
    const { page } = opened;
    const button = page.locator('voice-agent').locator('[part="button"]');
    await page.keyboard.press('Tab');
    await expectTalkButtonFocusedAndVisible(page, 'the first Tab (push-to-talk)');
    await expect(button).toHaveAccessibleName('Hold to talk');
    for (const key of ['Space', 'Enter']) {
      await page.keyboard.down(key);
      await expect(button).toHaveAttribute('aria-pressed', 'true');
      await expect.poll(() => agentState(page)).not.toMatch(/^(idle|loading)$/);
      await expectTalkButtonFocusedAndVisible(page, `holding ${key}`);
      await page.keyboard.up(key);
      await expect(button).toHaveAttribute('aria-pressed', 'false');
      await expectTalkButtonFocusedAndVisible(page, `releasing ${key}`);
    }
  } finally {
    await opened.close();
  }
});

test('contrast axe does not check: the text box border (1.4.11) and its placeholder (1.4.3), light and dark', async () => {
  const opened = await openAgentPage({});
  try {
    const { page } = opened;
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const measured = await page.evaluate((contrastSource) => {
        const contrast = eval(contrastSource) as (a: string, b: string) => number;
        const host = document.querySelector('voice-agent')!;
        const input = host.shadowRoot!.querySelector('[part="text-input"]') as HTMLInputElement;
        const background = getComputedStyle(host).backgroundColor;
        return {
          background,
          border: contrast(getComputedStyle(input).borderTopColor, background),
          placeholder: contrast(getComputedStyle(input, '::placeholder').color, background),
        };
      }, CONTRAST_FN);
      console.log(`text box [${colorScheme}]: border ${measured.border.toFixed(2)}:1, placeholder ${measured.placeholder.toFixed(2)}:1`);
      expect(measured.border, `text box border vs ${measured.background} [${colorScheme}]`).toBeGreaterThanOrEqual(3);
      expect(measured.placeholder, `placeholder vs ${measured.background} [${colorScheme}]`).toBeGreaterThanOrEqual(4.5);
    }
  } finally {
    await opened.close();
  }
});
