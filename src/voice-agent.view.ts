/**
 * `<voice-agent>`'s markup: a pure function of what the element shows, so the element
 * itself only gathers that and re-dispatches the session's events.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { VoiceErrorDetail } from './platform/errors.ts';
import type { VoiceAgentMode } from './platform/options.ts';
import type { Caption } from './session/session-display.ts';
import type { AgentState } from './turns/turn-machine.ts';

const MIC_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
  <path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z" />
</svg>`;
const STOP_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
  <rect x="6" y="6" width="12" height="12" rx="2" />
</svg>`;

export interface AgentView {
  readonly mode: VoiceAgentMode;
  readonly state: AgentState;
  /** The microphone is held (the button stops it). */
  readonly micHeld: boolean;
  /** Push-to-talk: the talk control is pressed. */
  readonly talkHeld: boolean;
  readonly downloadFraction: number | null;
  readonly captions: readonly Caption[];
  readonly error: VoiceErrorDetail | null;
}

export interface AgentViewHandlers {
  readonly click: () => void;
  readonly talkDown: (event: PointerEvent | KeyboardEvent) => void;
  readonly talkUp: (event: PointerEvent | KeyboardEvent) => void;
  readonly submit: (event: SubmitEvent) => void;
}

export function statusText({ state, mode, downloadFraction }: AgentView): string {
  switch (state) {
    case 'idle':
      return mode === 'text' ? 'Type a message below.' : mode === 'push-to-talk' ? 'Hold the button and talk.' : 'Press the button to talk.';
    case 'loading':
      return downloadFraction === null ? 'Starting…' : `Loading models… ${Math.round(downloadFraction * 100)}%`;
    case 'listening':
      return mode === 'push-to-talk' ? 'Hold the button and talk.' : 'Listening…';
    case 'user-speaking':
      return 'Hearing you…';
    case 'transcribing':
      return 'Transcribing…';
    case 'thinking':
      return 'Thinking…';
    case 'speaking':
      return 'Speaking…';
    case 'error':
      return 'Voice input is unavailable.';
  }
}

function buttonLabel({ mode, micHeld }: AgentView): string {
  if (mode === 'push-to-talk') return 'Hold to talk';
  return micHeld ? 'Stop listening' : 'Start talking';
}

export function renderAgent(view: AgentView, on: AgentViewHandlers): TemplateResult {
  const { mode, micHeld } = view;
  const pressed = mode === 'push-to-talk' ? view.talkHeld : micHeld;
  // The captions box is a Tab stop once it has captions: it scrolls (max-height) as the
  // conversation grows and holds nothing focusable, so without tabindex a keyboard user
  // could not scroll back through it (WCAG 2.1.1; axe scrollable-region-focusable).
  // Empty, it is no stop at all.
  return html`
    <div part="container" class="agent">
      <div class="agent__header">
        ${mode === 'text'
          ? nothing
          : html`<button
              part="button"
              class="agent__button"
              type="button"
              aria-label=${buttonLabel(view)}
              aria-pressed=${pressed ? 'true' : 'false'}
              @click=${on.click}
              @pointerdown=${on.talkDown}
              @pointerup=${on.talkUp}
              @pointercancel=${on.talkUp}
              @pointerleave=${on.talkUp}
              @keydown=${on.talkDown}
              @keyup=${on.talkUp}
            >
              ${micHeld && mode === 'hands-free' ? STOP_ICON : MIC_ICON}
            </button>`}
        <div part="status" class="agent__status" role="status" aria-live="polite">${statusText(view)}</div>
      </div>
      ${view.downloadFraction === null
        ? nothing
        : html`<progress
            part="progress"
            class="agent__progress"
            max="1"
            .value=${view.downloadFraction}
            aria-label="Model download"
          ></progress>`}
      <ol
        part="captions"
        class="agent__captions"
        tabindex=${view.captions.length ? '0' : nothing}
        aria-live="polite"
        aria-label="Conversation"
      >
        ${view.captions.map(
          (caption) =>
            html`<li part="caption" class="agent__caption agent__caption--${caption.speaker}">
              ${caption.speaker === 'note'
                ? caption.text
                : html`<span class="agent__caption-speaker">${caption.speaker === 'user' ? 'You' : 'Agent'}:</span>
                    ${caption.text}`}
            </li>`,
        )}
      </ol>
      <div part="error" class="agent__error" role="alert" ?hidden=${!view.error}>${view.error?.message ?? ''}</div>
      <form part="text-form" class="agent__form" @submit=${on.submit}>
        <label class="visually-hidden" for="message">Message</label>
        <input
          part="text-input"
          class="agent__input"
          id="message"
          name="message"
          type="text"
          autocomplete="off"
          placeholder="Type a message"
        />
        <button part="send-button" class="agent__send" type="submit">Send</button>
      </form>
    </div>
  `;
}
