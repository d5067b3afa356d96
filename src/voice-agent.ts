import { LitElement, type PropertyValues } from 'lit';
import { property, query } from 'lit/decorators.js';
import type { ConversationEntry } from './answering/conversation.ts';
import type { LlmDevicePreference } from './answering/llm-plan.ts';
import { rmsToDbfs } from './audio/level-meter.ts';
import type { AsrCapabilities } from './hearing/asr-controller.ts';
import type { AsrDevicePreference, AsrTask } from './hearing/asr-plan.ts';
import { clearModelCache, listCachedModels, type CachedModel } from './platform/model-cache.ts';
import { createOnceWarner, type EndOfTurnMode, type VoiceAgentMode } from './platform/options.ts';
import { BrowserPorts } from './session/browser-ports.ts';
import { VoiceSession } from './session/voice-session.ts';
import { DEFAULT_VOICE_ID } from './speaking/piper-voice.ts';
import { AGENT_STATES, type AgentState } from './turns/turn-machine.ts';
import styles from './voice-agent.styles.ts';
import { SettingsResolver, type VoiceAgentOptions } from './voice-agent.settings.ts';
import { renderAgent } from './voice-agent.view.ts';

/** Keeps the attribute's text as is, so validation can quote it in its warning. */
const rawAttribute = {
  fromAttribute: (value: string | null) => value ?? undefined,
  toAttribute: (value: unknown) => (value === undefined || value === null ? null : String(value)),
};

/**
 * A voice assistant in one element: it listens on the visitor's device (AudioWorklet +
 * Silero VAD) and decides when a turn starts and ends. Nothing it hears leaves the device.
 *
 * @summary On-device voice turn-taking, as a drop-in custom element.
 *
 * @example
 * ```html
 * <script type="module" src="/voice-agent.js"></script>
 * <voice-agent silence-ms="500"></voice-agent>
 * <script type="module">
 *   const agent = document.querySelector('voice-agent');
 *   agent.addEventListener('voice-speech-end', (e) => console.log(e.detail.durationMs));
 *   await agent.start();   // asks for the microphone
 * </script>
 * ```
 *
 * @event voice-state-change - `state` changed. `detail: { state, previous }`.
 * @event voice-speech-start - The visitor started talking (confirmed speech). `detail: { startMs }`.
 * @event voice-speech-end - The visitor's turn ended. `detail: { audio, durationMs, startMs, endMs, endOfTurnDelayMs, vadMsPerFrame }`.
 * @event voice-level - Input loudness, ≤ 20 Hz while listening. `detail: { source, rms, dbfs }`.
 * @event voice-model-progress - Model download progress. `detail: { model, file, loaded, total }`.
 * @event voice-transcript - Text the visitor typed (and, with a speech recognizer, said). `detail: { text, final, language, source }`.
 * @event voice-response - The spoken reply is being heard, word by word. `detail: { delta, text }`.
 * @event voice-response-end - A `say()` reply finished or was interrupted. `detail: { text, heardText, interrupted }`.
 * @event voice-metrics - Latency of an answered turn. `detail: { turnId, source, transcriptMs, firstTokenMs, firstAudioMs, voiceToVoiceMs }`.
 * @event voice-error - Something failed. `detail: { code, message, recoverable }`.
 * @event voice-recovered - A condition reported as `mic-ended`, `mic-interrupted` or `audio-blocked` is over (listening / sound again). `detail: { code }`.
 * @event voice-debug - Only with the `debug` attribute: per-frame VAD records. Not a stable API.
 *
 * @csspart container - The element's inner wrapper.
 * @csspart button - The talk button.
 * @csspart status - The status line (a polite live region).
 * @csspart progress - The model download progress bar.
 * @csspart captions - The list of what was said (a polite live region).
 * @csspart caption - One line of the captions.
 * @csspart error - The error message area.
 * @csspart text-form - The typed-input form.
 * @csspart text-input - The text input.
 * @csspart send-button - The send button of the text form.
 *
 * @cssproperty [--voice-agent-accent=#2563eb] - Button and progress colour.
 * @cssproperty [--voice-agent-accent-contrast=#ffffff] - Icon colour on the accent.
 * @cssproperty [--voice-agent-background=#ffffff] - Background.
 * @cssproperty [--voice-agent-foreground=#111827] - Text colour.
 * @cssproperty [--voice-agent-muted=#6b7280] - Status and note text colour.
 * @cssproperty [--voice-agent-border=#d1d5db] - Border colour.
 * @cssproperty [--voice-agent-error=#b91c1c] - Error colour.
 * @cssproperty [--voice-agent-radius=12px] - Corner radius.
 * @cssproperty [--voice-agent-gap=12px] - Spacing between pieces.
 * @cssproperty [--voice-agent-button-size=56px] - Diameter of the talk button.
 * @cssproperty [--voice-agent-font=system-ui] - Font family.
 * @cssproperty [--voice-agent-font-size=15.2px] - Text size (the host's inherited font is not used: a page's `body { font-size: 0 }` must not blank the element).
 *
 * @cssstate idle - Not listening.
 * @cssstate loading - Loading models / opening the microphone.
 * @cssstate listening - Listening for the visitor.
 * @cssstate user-speaking - The visitor is talking.
 * @cssstate transcribing - Turning speech into text.
 * @cssstate thinking - Waiting for the answer.
 * @cssstate speaking - Speaking the answer.
 * @cssstate error - Voice input failed; see the error area. Text input still works.
 */
export class VoiceAgent extends LitElement {
  static override styles = styles;

  /**
   * The models this origin keeps in Cache Storage (the recognizer, the voice, the VAD,
   * Smart Turn, a local LLM), one entry per model with its files' URLs and total bytes,
   * largest first. Cache Storage belongs to the origin, so this is on the class
   * (`customElements.get('voice-agent').cachedModels()`); elements have it too.
   */
  static cachedModels(): Promise<CachedModel[]> {
    return listCachedModels();
  }

  /**
   * Deletes the cached files of one model (`model` as {@link VoiceAgent.cachedModels} names
   * it), or of all of them. Resolves to the number of files deleted. Models already loaded
   * keep working; they are downloaded again on the next visit.
   */
  static clearModelCache(model?: string): Promise<number> {
    return clearModelCache(model);
  }

  /** {@link VoiceAgent.cachedModels}, from an element. */
  cachedModels(): Promise<CachedModel[]> {
    return listCachedModels();
  }

  /** {@link VoiceAgent.clearModelCache}, from an element. */
  clearModelCache(model?: string): Promise<number> {
    return clearModelCache(model);
  }

  /**
   * Base URL for every downloadable model file, in the layout `${base}/${modelId}/${file}`
   * (self-hosting, offline demos). Unset: the public model hubs.
   */
  @property({ attribute: 'model-base-url' }) modelBaseUrl: string | undefined;

  /**
   * Fetch nothing outside the page's origin: models, the voice and `llm-url` must all be
   * served from it (set `model-base-url`; there is no hub fallback). Anything that would
   * leave is not requested and fails with `local-only-violation`, naming the attribute and
   * the URL. Speech recognition and synthesis always run on the device; this makes the
   * downloads and the answering provably local too.
   */
  @property({ attribute: 'local-only', type: Boolean }) localOnly = false;

  /** Silence (ms) after the visitor's last word before their turn ends. 100–5000, default 480 (15 detector frames of 32 ms). */
  @property({ attribute: 'silence-ms', converter: rawAttribute }) silenceMs: number | undefined;

  /** Speech probability (0.05–0.95) at which a frame counts as speech. Default 0.5. */
  @property({ attribute: 'vad-threshold', converter: rawAttribute }) vadThreshold: number | undefined;

  /** Shortest speech (ms) that counts as a turn; shorter bursts are dropped. 0–5000, default 250. */
  @property({ attribute: 'min-speech-ms', converter: rawAttribute }) minSpeechMs: number | undefined;

  /**
   * What ends the visitor's turn at a pause: `silence` (the pause reaches `silence-ms`) or
   * `smart-turn` (Smart Turn v3.2, an 8.7 MB model fetched from `model-base-url` as
   * `pipecat-ai/smart-turn-v3/smart-turn-v3.2-cpu.onnx`, judges from the turn's sound
   * whether it is finished: a finished turn ends ~160 ms into the pause plus the model's
   * time, an unfinished one waits up to 2 s). If Smart Turn cannot be loaded, a
   * recoverable `model-load-failed` is reported and turns end on silence. Default `silence`.
   */
  @property({ attribute: 'end-of-turn' }) endOfTurn: EndOfTurnMode | undefined;

  /**
   * Diagnostics: dispatch `voice-debug` events with per-frame VAD probabilities and costs.
   * Meant for tuning `vad-threshold` / `silence-ms`, not for production pages.
   */
  @property({ type: Boolean }) debug = false;

  /** `hands-free` (the VAD ends turns), `push-to-talk` (hold the button), or `text` (no microphone). */
  @property() mode: VoiceAgentMode = 'hands-free';

  /**
   * Whisper model id (Hugging Face layout), or `none` for no speech recognition. Unset:
   * chosen from the browser's measured capabilities (see `capabilities`).
   */
  @property({ attribute: 'asr-model' }) asrModel: string | undefined;

  /** Where Whisper runs: `auto` (WebGPU when an adapter is there, else WASM), `webgpu` or `wasm`. */
  @property({ attribute: 'asr-device' }) asrDevice: AsrDevicePreference = 'auto';

  /** Whisper weights' dtype (`q8`, `fp32`, …) or a JSON map per file. Unset: the ladder's choice. */
  @property({ attribute: 'asr-dtype' }) asrDtype: string | undefined;

  /**
   * The visitor's language: a code (`en`, `fr`) or `auto` (a multilingual model detects
   * it). Unset: the `lang` of the element or its nearest ancestor, else `auto`.
   */
  @property() language: string | undefined;

  /** `transcribe` (text in the spoken language) or `translate` (English text; multilingual models). */
  @property() task: AsrTask = 'transcribe';

  /**
   * An OpenAI-compatible chat endpoint that answers the visitor (Ollama, llama.cpp server,
   * vLLM, LM Studio, OpenAI): a base such as `http://localhost:11434/v1` or the full
   * `…/chat/completions` URL. Unset, and no page code answering `voice-turn`: dictation.
   */
  @property({ attribute: 'llm-url' }) llmUrl: string | undefined;

  /** The `model` field sent to `llm-url` (e.g. `qwen2.5:3b`). */
  @property({ attribute: 'llm-model' }) llmModel: string | undefined;

  /**
   * `on` (default): the visitor can talk over an answer. Sustained speech that is not the
   * agent's own echo pauses it at once; words in that turn abandon it (only the heard part
   * is kept, `interrupted: true`), and a turn without words (a cough) lets it play on.
   * `off`: answers always play to the end; speech during them is ignored.
   */
  @property() interruptions: 'on' | 'off' = 'on';

  /** The system prompt sent first with every request. */
  @property({ attribute: 'system-prompt' }) systemPrompt: string | undefined;

  /** Extra headers for `llm-url` requests. Property only: keys do not belong in markup. */
  @property({ attribute: false }) llmHeaders: Readonly<Record<string, string>> | undefined;

  /** Called before every `llm-url` request; its result is sent as `Authorization: Bearer …`. Property only. */
  @property({ attribute: false }) llmToken: (() => string | null | undefined | Promise<string | null | undefined>) | undefined;

  /**
   * A chat model run on the visitor's device (transformers.js `text-generation` layout, from
   * `model-base-url`), e.g. `HuggingFaceTB/SmolLM2-360M-Instruct`. Answers when no page code
   * does and no `llm-url` is set. Loaded on first use or by `preload()`.
   */
  @property({ attribute: 'local-llm' }) localLlm: string | undefined;

  /** Where `local-llm` runs: `auto` (WebGPU when an adapter is there, else WASM), `webgpu` or `wasm`. */
  @property({ attribute: 'local-llm-device' }) localLlmDevice: LlmDevicePreference = 'auto';

  /** `local-llm` weights' dtype (`q4f16`, `q4`, `q8`, …). Unset: q4f16 / q4 on WebGPU, q8 on WASM. */
  @property({ attribute: 'local-llm-dtype' }) localLlmDtype: string | undefined;

  /** The longest `local-llm` reply, in new tokens: 1–4096, default 256 (never above `max-tokens`). */
  @property({ attribute: 'local-llm-max-tokens', converter: rawAttribute }) localLlmMaxTokens: number | undefined;

  /**
   * The longest reply of any responder, in tokens: sent to `llm-url` as `max_tokens`, and
   * the ceiling of `local-llm-max-tokens`. 1–32768, default 512.
   */
  @property({ attribute: 'max-tokens', converter: rawAttribute }) maxTokens: number | undefined;

  /**
   * The conversation so far, oldest first: `{ turnId, role, content, heard?, interrupted?, failed? }`.
   * An interrupted answer holds only what was heard; a failed turn is marked and is not
   * sent to the LLM again.
   */
  get history(): readonly ConversationEntry[] {
    return this.session.history;
  }

  /** Forgets the conversation (and drops the answer under way). */
  reset(): void {
    this.session.reset();
  }

  /**
   * What the speech recognizer runs on and why: the measured browser capabilities and the
   * chosen model, device and dtype (with the reason, and any WebGPU → WASM fallback).
   * Null until the recognizer has been planned (first start() or preload()).
   */
  get capabilities(): AsrCapabilities | null {
    return this.ports.recognizer.capabilities;
  }

  /**
   * The Piper voice that speaks replies, e.g. `en_US-joe-medium` (the default) or
   * `en_US-lessac-medium`, fetched from `model-base-url` (rhasspy/piper-voices layout).
   */
  @property() voice: string = DEFAULT_VOICE_ID;

  /** Speaking pace: 1 is the voice's own, 0.5–2. Default 1. */
  @property({ attribute: 'speaking-rate', converter: rawAttribute }) speakingRate: number | undefined;

  /** What the agent is doing now. Mirrored by the `state` attribute and the custom states. */
  get state(): AgentState {
    return this.session.state;
  }

  @query('.agent__button') private button!: HTMLButtonElement | null;

  private readonly internals: ElementInternals | null;
  private readonly warn = createOnceWarner();
  private ports!: BrowserPorts;
  /** The conversation itself: this element only configures it, renders it and re-dispatches its events. */
  private readonly session = new VoiceSession((sinks) => (this.ports = new BrowserPorts(this, sinks)), {
    dispatch: (event) => this.dispatchEvent(event),
    changed: () => {
      this.syncState();
      this.requestUpdate();
    },
    level: (rms) => this.setLevel(rms),
  });
  private readonly settings = new SettingsResolver({
    session: this.session,
    ports: this.ports,
    warn: this.warn,
    baseUri: document.baseURI,
    inheritedLang: () => this.closest('[lang]')?.getAttribute('lang'),
  });

  constructor() {
    super();
    // Custom states need ElementInternals; older engines fall back to the attribute.
    this.internals = typeof this.attachInternals === 'function' ? this.attachInternals() : null;
  }

  /**
   * Downloads and warms the models so the first click is fast (in `text` mode only the
   * voice), and the `local-llm` model when one is set. Progress arrives as
   * `voice-model-progress`. Safe to call more than once.
   */
  preload(): Promise<void> {
    return this.session.preload();
  }

  /**
   * Asks for the microphone and starts listening. Resolves once listening (state
   * `listening`), or after a failure has been reported (state `error`, a `voice-error`
   * event, and a visible explanation). Call it from a user gesture. In `text` mode it
   * does nothing: there is no microphone to open.
   */
  start(): Promise<void> {
    return this.session.start();
  }

  /**
   * Stops listening and speaking, and releases the microphone, the audio graph and the
   * model workers — except the `local-llm` model, which stays loaded (it is the slowest to
   * load) until the element is removed or `local-llm` is cleared.
   */
  stop(): Promise<void> {
    return this.session.stop();
  }

  /**
   * Takes a typed message as the visitor's turn (the text input does the same).
   * Dispatches `voice-transcript` with `source: 'text'`.
   */
  send(text: string): void {
    this.session.send(text);
  }

  /**
   * Speaks `text` with the `voice` (markdown, code blocks, URLs and emoji are cleaned into
   * speakable words) and shows it as an agent caption. Audio starts after the first short
   * clause is synthesized; `state` is `speaking` while it plays. Resolves when it has
   * been spoken to the end, interrupted, or has failed (then a `voice-error` was
   * dispatched and the caption still shows the text). Replies queue in call order.
   */
  say(text: string): Promise<void> {
    return this.session.say(text);
  }

  /**
   * Stops speaking within a short fade (≤ 50 ms) and drops every queued reply; each pending
   * `say()` resolves after its `voice-response-end` (`interrupted: true`, `heardText`).
   */
  interrupt(): void {
    this.session.interrupt();
  }

  /** The validated model base URL (no trailing slash), or undefined for the public hubs. */
  get effectiveModelBaseUrl(): string | undefined {
    return this.settings.modelBaseUrl;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.syncState();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Controllers release the mic and terminate the workers (hostDisconnected); the
    // session is told too, so `state` reads `idle` if the element is re-attached.
    this.session.detach();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    this.settings.apply(this as VoiceAgentOptions, changed as { has(key: keyof VoiceAgentOptions): boolean });
  }

  private syncState(): void {
    const state = this.session.state;
    this.setAttribute('state', state);
    const states = this.internals?.states;
    if (!states) return;
    for (const name of AGENT_STATES) {
      try {
        if (name === state) states.add(name);
        else states.delete(name);
      } catch {
        // Engines with the older `--dashed` CustomStateSet syntax reject plain names.
        return;
      }
    }
  }

  /** Drives the button's glow directly: a re-render 20 times a second buys nothing. */
  private setLevel(rms: number): void {
    // Map -60..-10 dBFS onto 0..1 so normal speech fills the range.
    const level = Math.min(1, Math.max(0, (rmsToDbfs(rms) + 60) / 50));
    this.button?.style.setProperty('--level', level.toFixed(2));
  }

  // ── input handlers ──────────────────────────────────────────────────────────────────

  private readonly handleButtonClick = () => {
    if (this.settings.mode !== 'hands-free') return;
    if (this.session.micHeld) void this.stop();
    else void this.start();
  };

  private readonly handleTalkDown = (event: PointerEvent | KeyboardEvent) => {
    if (this.settings.mode !== 'push-to-talk') return;
    if (event instanceof KeyboardEvent) {
      if ((event.key !== ' ' && event.key !== 'Enter') || event.repeat) return;
      event.preventDefault();
    } else if (event.button !== 0) {
      return;
    }
    this.session.talk(true);
  };

  private readonly handleTalkUp = (event: PointerEvent | KeyboardEvent) => {
    if (this.settings.mode !== 'push-to-talk' || !this.session.talkHeld) return;
    if (event instanceof KeyboardEvent) {
      if (event.key !== ' ' && event.key !== 'Enter') return;
      event.preventDefault();
    }
    this.session.talk(false);
  };

  private readonly handleSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('message') as HTMLInputElement | null;
    if (!input) return;
    this.send(input.value);
    input.value = '';
  };

  protected override render() {
    const { session } = this;
    return renderAgent(
      {
        mode: this.settings.mode,
        state: session.state,
        micHeld: session.micHeld,
        talkHeld: session.talkHeld,
        captions: session.display.captions,
        error: session.display.error,
        downloadFraction: session.display.downloadFraction,
      },
      { click: this.handleButtonClick, talkDown: this.handleTalkDown, talkUp: this.handleTalkUp, submit: this.handleSubmit },
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'voice-agent': VoiceAgent;
  }
}
