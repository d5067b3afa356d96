import { css } from 'lit';

/**
 * Public styling surface: the `--voice-agent-*` custom properties declared on `:host`,
 * the parts named in the element's JSDoc, and the custom states (`:state(listening)` …).
 * Class names inside the shadow root are private and may change.
 */
export default css`
  :host {
    --voice-agent-accent: #2563eb;
    --voice-agent-accent-contrast: #ffffff;
    --voice-agent-background: #ffffff;
    --voice-agent-foreground: #111827;
    --voice-agent-muted: #6b7280;
    --voice-agent-border: #d1d5db;
    --voice-agent-error: #b91c1c;
    --voice-agent-radius: 12px;
    --voice-agent-gap: 12px;
    --voice-agent-button-size: 56px;
    --voice-agent-font: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    --voice-agent-font-size: 15.2px;

    display: block;
    box-sizing: border-box;
    max-width: 448px;
    padding: var(--voice-agent-gap);
    border: 1px solid var(--voice-agent-border);
    border-radius: var(--voice-agent-radius);
    background: var(--voice-agent-background);
    color: var(--voice-agent-foreground);
    font-family: var(--voice-agent-font);
    font-size: var(--voice-agent-font-size);
    line-height: 1.4;
  }

  @media (prefers-color-scheme: dark) {
    :host {
      --voice-agent-accent: #60a5fa;
      --voice-agent-accent-contrast: #0b1220;
      --voice-agent-background: #111827;
      --voice-agent-foreground: #f3f4f6;
      --voice-agent-muted: #9ca3af;
      --voice-agent-border: #374151;
      --voice-agent-error: #f87171;
    }
  }

  :host([hidden]) {
    display: none;
  }

  /*
   * The host page's CSS reaches into the shadow root only by inheritance through the host,
   * and the page's rules beat \`:host\` rules: a global reset that unsets the host
   * (\`*:where(...) { all: unset }\`) together with \`body { font-size: 0; line-height: 0 }\`
   * (the inline-block gap hack) or \`body { pointer-events: none }\` (left behind by a modal
   * library) made the text 0 px and the button unclickable (tests/e2e/hostile-page.spec.ts).
   * So the inner root, which no page selector can reach, starts from initial values and
   * takes everything it shows from the element's own custom properties (untouched by
   * \`all\`). Visibility still follows the host, so a page can hide the element on purpose.
   * Sizes are in px, not rem: rem follows the page's root font size, which sites set to
   * 10px (\`html { font-size: 62.5% }\`) or to 50-100px (mobile "flexible" layouts).
   */
  .agent {
    all: initial;
    display: block;
    box-sizing: border-box;
    visibility: inherit;
    font-family: var(--voice-agent-font);
    font-size: var(--voice-agent-font-size);
    line-height: 1.4;
    color: var(--voice-agent-foreground);
  }

  .agent *,
  .agent *::before,
  .agent *::after {
    box-sizing: inherit;
  }

  .agent__header {
    display: flex;
    align-items: center;
    gap: var(--voice-agent-gap);
  }

  .agent__button {
    --level: 0;
    flex: none;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    width: var(--voice-agent-button-size);
    height: var(--voice-agent-button-size);
    border: none;
    border-radius: 50%;
    background: var(--voice-agent-accent);
    color: var(--voice-agent-accent-contrast);
    cursor: pointer;
    box-shadow: 0 0 0 calc(var(--level) * 9.6px) color-mix(in srgb, var(--voice-agent-accent) 30%, transparent);
    transition: box-shadow 80ms linear, transform 120ms ease;
    touch-action: none;
    user-select: none;
  }

  .agent__button:focus-visible {
    outline: 3px solid var(--voice-agent-foreground);
    outline-offset: 3px;
  }

  /* The captions box is a Tab stop (it scrolls); the same ring as the button, so focus
     on it is as visible in both colour schemes (WCAG 2.4.7). */
  .agent__captions:focus-visible {
    outline: 3px solid var(--voice-agent-foreground);
    outline-offset: 2px;
  }

  .agent__button[aria-pressed='true'] {
    transform: scale(1.05);
  }

  .agent__button:disabled {
    cursor: progress;
    opacity: 0.7;
  }

  .agent__button svg {
    width: 45%;
    height: 45%;
    fill: currentColor;
  }

  .agent__status {
    flex: 1;
    min-width: 0;
    color: var(--voice-agent-muted);
  }

  .agent__progress {
    display: block;
    width: 100%;
    height: 6.4px;
    margin-top: var(--voice-agent-gap);
    accent-color: var(--voice-agent-accent);
  }

  .agent__captions {
    display: flex;
    flex-direction: column;
    gap: 5.6px;
    max-height: 224px;
    overflow-y: auto;
    margin: var(--voice-agent-gap) 0 0;
    padding: 0;
    list-style: none;
  }

  .agent__captions:empty {
    display: none;
  }

  .agent__caption--user {
    align-self: flex-end;
    text-align: end;
  }

  .agent__caption--agent {
    align-self: flex-start;
  }

  .agent__caption--note {
    align-self: center;
    color: var(--voice-agent-muted);
    font-size: 0.85em;
  }

  .agent__caption-speaker {
    font-weight: 600;
  }

  .agent__error {
    margin-top: var(--voice-agent-gap);
    padding: 8px 12px;
    border-left: 3px solid var(--voice-agent-error);
    color: var(--voice-agent-error);
  }

  .agent__error[hidden] {
    display: none;
  }

  .agent__form {
    display: flex;
    gap: 8px;
    margin-top: var(--voice-agent-gap);
  }

  .agent__input {
    flex: 1;
    min-width: 0;
    padding: 7.2px 9.6px;
    /* Muted, not --voice-agent-border: the border is what shows where the text box is,
       and #d1d5db on white is 1.5:1; WCAG 1.4.11 asks 3:1 of a control's boundary
       (muted is 4.8:1 light, 7:1 dark). The element's own outer border stays light. */
    border: 1px solid var(--voice-agent-muted);
    border-radius: calc(var(--voice-agent-radius) / 2);
    background: transparent;
    color: inherit;
    font: inherit;
  }

  /* The browser's placeholder grey (#757575) ignores our dark background: 3.8:1 on
     #111827, under the 4.5:1 of WCAG 1.4.3. Muted passes in both schemes. */
  .agent__input::placeholder {
    color: var(--voice-agent-muted);
    opacity: 1;
  }

  .agent__send {
    padding: 7.2px 12.8px;
    border: 1px solid var(--voice-agent-accent);
    border-radius: calc(var(--voice-agent-radius) / 2);
    background: transparent;
    color: var(--voice-agent-accent);
    font: inherit;
    cursor: pointer;
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }

  @media (prefers-reduced-motion: reduce) {
    .agent__button {
      transition: none;
      box-shadow: none;
    }
    .agent__button[aria-pressed='true'] {
      transform: none;
    }
  }
`;
