import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state as reactiveState } from 'lit/decorators.js';
import { AsrController, type AsrCapabilities, type TranscriptUpdate } from './hearing/asr-controller.ts';
import { ConversationController } from './answering/conversation-controller.ts';
import { LocalLlmController } from './answering/local-llm-controller.ts';
import type { ConversationEntry } from './answering/conversation.ts';
import { MicController, MicOpenCancelled } from './audio/mic-controller.ts';
import { SpeechController } from './speaking/speech-controller.ts';
import { VadController } from './turns/vad-controller.ts';
import { ASR_DEVICE_PREFERENCES, ASR_TASKS, parseDtype, type AsrDevicePreference, type AsrTask } from './hearing/asr-plan.ts';
import { VoiceAgentError, type VoiceErrorDetail } from './platform/errors.ts';
import { LLM_DEVICE_PREFERENCES, LOCAL_LLM_MAX_TOKENS, type LlmDevicePreference } from './answering/llm-plan.ts';
import { rmsToDbfs } from './audio/level-meter.ts';
import {
  VOICE_AGENT_MODES,
  SPEAKING_RATE,
  createOnceWarner,
  resolveTurnDetection,
  validateBaseUrl,
  validateEnum,
  validateNumber,
  type EndOfTurnMode,
  type TurnDetectionOptions,
  type VoiceAgentMode,
} from './platform/options.ts';
import { wallClockMs } from './platform/clock.ts';
import { echoesAgent } from './hearing/transcript-filter.ts';
import { DEFAULT_VOICE_ID } from './speaking/piper-voice.ts';
import { ECHO_TAIL_MS, EchoGate } from './turns/echo-gate.ts';
import { SUSTAINED_SPEECH_MS } from './turns/speech-segmenter.ts';
import { LEVEL_INTERVAL_MS, type FileProgress, type VadEvent } from './platform/protocol.ts';
import { AGENT_STATES, holdsAudio, transition, type AgentState, type TurnEffect, type TurnInput } from './turns/turn-machine.ts';
import {
  VoiceDebugEvent,
  VoiceMetricsEvent,
  VoiceErrorEvent,
  VoiceLevelEvent,
  VoiceModelProgressEvent,
  VoiceResponseEndEvent,
  VoiceResponseEvent,
  VoiceSpeechEndEvent,
  VoiceSpeechStartEvent,
  VoiceStateChangeEvent,
  VoiceTranscriptEvent,
  type VoiceDebugDetail,
  type VoiceResponseDetail,
  type VoiceResponseEndDetail,
  type VoiceSpeechEndDetail,
} from './events/index.ts';
import styles from './voice-agent.styles.ts';


/** Level readings this long before a barge-in's last 160 ms are unlearned with it as the visitor's. */
const VISITOR_READINGS_MS = 300;

/** How far the output's reported position may lag the sound actually leaving the speakers. */
const OUTPUT_CLOCK_SLACK_MS = 250;

/** Characters of the agent's recent speech kept for the transcript echo check. */
const AGENT_SPEECH_KEPT_CHARS = 600;

/** At most this many caption lines are kept in the DOM. */
const MAX_CAPTIONS = 50;

interface Caption {
  readonly id: number;
  readonly speaker: 'user' | 'agent' | 'note';
  readonly text: string;
}

/** Keeps the attribute's text as is, so validation can quote it in its warning. */
const rawAttribute = {
  fromAttribute: (value: string | null) => value ?? undefined,
  toAttribute: (value: unknown) => (value === undefined || value === null ? null : String(value)),
};

const MIC_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
  <path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z" />
</svg>`;
const STOP_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
  <rect x="6" y="6" width="12" height="12" rx="2" />
</svg>`;

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
 * @cssproperty [--voice-agent-radius=0.75rem] - Corner radius.
 * @cssproperty [--voice-agent-gap=0.75rem] - Spacing between pieces.
 * @cssproperty [--voice-agent-button-size=3.5rem] - Diameter of the talk button.
 * @cssproperty [--voice-agent-font=system-ui] - Font family.
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
   * Base URL for every downloadable model file, in the layout `${base}/${modelId}/${file}`
   * (self-hosting, offline demos). Unset: the public model hubs.
   */
  @property({ attribute: 'model-base-url' }) modelBaseUrl: string | undefined;

  /** Silence (ms) after the visitor's last word before their turn ends. 100–5000, default 500. */
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

  /** The longest `local-llm` reply, in new tokens: 1–4096, default 256. */
  @property({ attribute: 'local-llm-max-tokens', converter: rawAttribute }) localLlmMaxTokens: number | undefined;

  /**
   * The conversation so far, oldest first: `{ turnId, role, content, heard?, interrupted?, failed? }`.
   * An interrupted answer holds only what was heard; a failed turn is marked and is not
   * sent to the LLM again.
   */
  get history(): readonly ConversationEntry[] {
    return this.loop.history;
  }

  /** Forgets the conversation (and drops the answer under way). */
  reset(): void {
    this.loop.reset();
  }

  /**
   * What the speech recognizer runs on and why: the measured browser capabilities and the
   * chosen model, device and dtype (with the reason, and any WebGPU → WASM fallback).
   * Null until the recognizer has been planned (first start() or preload()).
   */
  get capabilities(): AsrCapabilities | null {
    return this.asr.capabilities;
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
    return this.currentState;
  }

  @reactiveState() private currentState: AgentState = 'idle';
  @reactiveState() private error: VoiceErrorDetail | null = null;
  @reactiveState() private captions: readonly Caption[] = [];
  @reactiveState() private downloadFraction: number | null = null;
  @reactiveState() private talkHeld = false;

  @query('.agent__button') private button!: HTMLButtonElement | null;

  private readonly internals: ElementInternals | null;
  private readonly warn = createOnceWarner();
  private turnOptions: TurnDetectionOptions = resolveTurnDetection({}, this.warn);
  private resolvedMode: VoiceAgentMode = 'hands-free';
  private resolvedModelBaseUrl: string | undefined;
  /** Bumped whenever an audio session is released: stale async work checks it. */
  private audioSession = 0;
  private acquiring: Promise<void> | null = null;
  private pendingTurn: VadEvent | null = null;
  /** Id of the VAD's current (or last) confirmed turn. */
  private turnId = 0;
  /** Timestamps (wall clock) of the turn being answered, for `voice-metrics`. */
  private timing: {
    turnId: number;
    source: 'speech' | 'text';
    startedAt: number;
    transcriptAt: number;
    firstTokenAt: number | null;
  } | null = null;
  /** When the visitor's last spoken turn ended (its last voiced frame), wall clock. */
  private lastVoicedAt = 0;
  /** Turns delivered to the recognizer whose final transcript has not come yet. */
  private readonly awaitingTranscripts = new Set<number>();
  private readonly downloads = new Map<string, FileProgress>();
  private captionId = 0;
  /** The microphone is held (acquire-audio ran, release-audio has not since). */
  private audioHeld = false;
  private interruptionsOn = true;
  /** Learns how loud the agent's own voice comes back into the microphone. */
  private readonly echoGate = new EchoGate();
  /** An answer is paused while the visitor talks over it (hold-reply ran). */
  private replyHeld = false;
  /** Turns up to this id were spoken before the hold: their words do not drop the held answer. */
  private heldAfterTurnId = 0;
  /** The VAD has a turn open (speech-onset seen, no end or misfire since). */
  private vadTurnOpen = false;
  /** Stream time of the confirmed VAD turn's start (its `speech-start`). */
  private vadTurnStartMs = 0;
  /** The VAD's open turn is confirmed (speech-start seen). */
  private vadTurnConfirmed = false;
  /** The id the recognizer knows the open VAD turn by, or null if it was not handed over. */
  private recognizedTurnId: number | null = null;
  /** What the last barge-in decision saw (for the debug record of the hold). */
  private bargeInEvidence: { onsetAt?: number; micRms?: number; outputRms?: number; expectedEchoRms?: number } = {};
  /** What the agent said lately (heard parts), for telling its echo from the visitor's words. */
  private agentSpeech = { earlier: '', current: '' };

  private readonly mic = new MicController(this, {
    onLevel: (rms) => this.handleLevel(rms),
    onEnded: (error) => {
      this.reportError(error);
      this.input({ type: 'audio-lost' });
    },
  });

  private readonly vad = new VadController(this, {
    onEvent: (event) => this.handleVadEvent(event),
    onProgress: (progress) => this.handleProgress('vad', progress),
    onError: (error) => this.reportError(error),
    onCrash: (error) => {
      this.reportError(error);
      this.input({ type: 'audio-lost' });
    },
  });

  private readonly loop = new ConversationController(this, {
    dispatchTurn: (event) => this.dispatchEvent(event),
    onReplyStart: (turnId) => {
      if (this.timing) this.timing.turnId = turnId;
      this.input({ type: 'reply-start' });
    },
    onFirstDelta: () => {
      if (this.timing && this.timing.firstTokenAt === null) this.timing.firstTokenAt = wallClockMs();
    },
    speak: (text, hooks) => this.speech.say(text, hooks),
    onResponse: (detail) => this.noteResponse(detail),
    onResponseEnd: (detail) => this.noteResponseEnd(detail),
    onReplyText: (text) => this.addCaption('agent', text),
    onError: (error) => this.reportError(error),
    onReplyEnd: () => {
      this.reportMetrics(null); // no audio was played (failed, empty, cancelled)
      this.input({ type: 'reply-end' });
    },
  });

  private readonly asr = new AsrController(this, {
    onProgress: (progress) => this.handleProgress('asr', progress),
    onTranscript: (update) => this.handleTranscript(update),
    onError: (error) => this.reportError(error),
    onDebug: (detail) => {
      if (this.debug) this.dispatchEvent(new VoiceDebugEvent(detail));
    },
  });

  private readonly localLlmController = new LocalLlmController(this, {
    onProgress: (progress) => this.handleProgress('llm', progress),
    onError: (error) => this.reportError(error),
    onDebug: (detail) => {
      if (this.debug) this.dispatchEvent(new VoiceDebugEvent(detail));
    },
  });

  private readonly speech = new SpeechController(this, {
    onSpeakingChange: (speaking) => {
      if (speaking) this.reportMetrics(wallClockMs());
      this.input({ type: speaking ? 'speak-start' : 'speak-end' });
    },
    onResponse: (detail) => this.noteResponse(detail),
    onResponseEnd: (detail) => this.noteResponseEnd(detail),
    onProgress: (progress) => this.handleProgress('tts', progress),
    onError: (error) => this.reportError(error),
    onChunk: (chunk) => {
      if (this.debug) this.dispatchEvent(new VoiceDebugEvent({ kind: 'tts-chunk', chunk }));
    },
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
  async preload(): Promise<void> {
    const voice = this.speech.preload(); // reports its own failure
    voice.catch(() => {});
    try {
      // Text mode never listens: only the voice (and the local LLM) are worth loading.
      const loads: Promise<unknown>[] = this.resolvedMode !== 'text' ? [this.vad.load(), this.asr.load()] : [];
      if (this.localLlmController.enabled) loads.push(this.localLlmController.load());
      await Promise.all(loads);
    } catch (error) {
      const voiceError = VoiceAgentError.from(error, 'model-load-failed');
      this.reportError(voiceError);
      throw voiceError;
    }
    await voice;
  }

  /**
   * Asks for the microphone and starts listening. Resolves once listening (state
   * `listening`), or after a failure has been reported (state `error`, a `voice-error`
   * event, and a visible explanation). Call it from a user gesture. In `text` mode it
   * does nothing: there is no microphone to open.
   */
  async start(): Promise<void> {
    this.input({ type: 'start', voiceInput: this.resolvedMode !== 'text' });
    await this.acquiring;
  }

  /**
   * Stops listening and speaking, and releases the microphone, the audio graph and the
   * model workers — except the `local-llm` model, which stays loaded (it is the slowest to
   * load) until the element is removed or `local-llm` is cleared.
   */
  async stop(): Promise<void> {
    // The speech layer first: it reports what was heard, which the history keeps.
    this.speech.stop();
    this.loop.cancel();
    this.input({ type: 'stop' });
    await this.acquiring;
  }

  /**
   * Takes a typed message as the visitor's turn (the text input does the same).
   * Dispatches `voice-transcript` with `source: 'text'`.
   */
  send(text: string): void {
    this.sendText(text);
  }

  // ── speech output ───────────────────────────────────────────────────────────────────

  /**
   * Speaks `text` with the `voice` (markdown, code blocks, URLs and emoji are cleaned into
   * speakable words) and shows it as an agent caption. Audio starts after the first short
   * clause is synthesized; `state` is `speaking` while it plays. Resolves when it has
   * been spoken to the end, interrupted, or has failed (then a `voice-error` was
   * dispatched and the caption still shows the text). Replies queue in call order.
   */
  say(text: string): Promise<void> {
    const reply = String(text ?? '').trim();
    if (reply) this.addCaption('agent', reply);
    return this.speech.say(reply);
  }

  /**
   * Stops speaking within a short fade (≤ 50 ms) and drops every queued reply; each pending
   * `say()` resolves after its `voice-response-end` (`interrupted: true`, `heardText`).
   */
  interrupt(): void {
    this.speech.interrupt();
  }

  private updateSpeechSettings(changed: PropertyValues<this>): void {
    if (!changed.has('voice') && !changed.has('speakingRate') && !changed.has('modelBaseUrl')) return;
    this.speech.settings = {
      // An invalid id is reported (voice-invalid) when a reply is spoken, not replaced.
      voiceId: String(this.voice || DEFAULT_VOICE_ID).trim(),
      modelBaseUrl: this.resolvedModelBaseUrl,
      speakingRate: validateNumber(SPEAKING_RATE, this.speakingRate, this.warn),
    };
  }

  /** The microphone is held: listening, or speaking in a spoken conversation. */
  private get micHeld(): boolean {
    return holdsAudio(this.currentState) || this.audioHeld;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.syncState();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Controllers release the mic and terminate the worker (hostDisconnected); the state
    // machine is told too, so `state` reads `idle` if the element is re-attached.
    this.talkHeld = false;
    this.input({ type: 'stop' });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('silenceMs') || changed.has('vadThreshold') || changed.has('minSpeechMs') || changed.has('endOfTurn')) {
      this.turnOptions = resolveTurnDetection(
        { silenceMs: this.silenceMs, vadThreshold: this.vadThreshold, minSpeechMs: this.minSpeechMs, endOfTurn: this.endOfTurn },
        this.warn,
      );
      if (holdsAudio(this.currentState)) void this.vad.configure(this.turnOptions);
    }
    if (changed.has('interruptions')) {
      this.interruptionsOn = validateEnum('interruptions', this.interruptions, ['on', 'off'] as const, 'on', this.warn) === 'on';
    }
    if (changed.has('mode')) {
      this.resolvedMode = validateEnum('mode', this.mode, VOICE_AGENT_MODES, 'hands-free', this.warn);
    }
    if (changed.has('modelBaseUrl')) {
      this.resolvedModelBaseUrl = validateBaseUrl('model-base-url', this.modelBaseUrl, document.baseURI, this.warn);
    }
    if (changed.has('endOfTurn') || changed.has('modelBaseUrl')) this.vad.setEndOfTurn(this.turnOptions.endOfTurn, this.resolvedModelBaseUrl);
    const asrKeys = ['modelBaseUrl', 'asrModel', 'asrDevice', 'asrDtype', 'language', 'task'] as const;
    if (asrKeys.some((key) => changed.has(key))) {
      const model = this.asrModel?.trim();
      const { dtype, error } = parseDtype(this.asrDtype);
      if (error) this.warn(`${error}; using the default for the device.`);
      this.asr.configure({
        enabled: model !== 'none',
        model: model || undefined,
        device: validateEnum('asr-device', this.asrDevice, ASR_DEVICE_PREFERENCES, 'auto', this.warn),
        dtype,
        language: this.resolveLanguage(),
        task: validateEnum('task', this.task, ASR_TASKS, 'transcribe', this.warn),
        modelBaseUrl: this.resolvedModelBaseUrl,
      });
    }
    this.updateSpeechSettings(changed);
    this.configureLocalLlm(changed);
    const loopKeys = ['llmUrl', 'llmModel', 'systemPrompt', 'llmHeaders', 'llmToken', 'localLlm'] as const;
    if (loopKeys.some((key) => changed.has(key))) {
      this.loop.settings = {
        llmUrl: validateBaseUrl('llm-url', this.llmUrl, document.baseURI, this.warn),
        llmModel: this.llmModel?.trim() || undefined,
        systemPrompt: this.systemPrompt?.trim() || undefined,
        headers: this.llmHeaders,
        getToken: this.llmToken,
        localResponder: this.localLlmController.enabled ? this.localLlmController.responder : undefined,
      };
    }
  }

  private configureLocalLlm(changed: PropertyValues<this>): void {
    const keys = ['localLlm', 'localLlmDevice', 'localLlmDtype', 'localLlmMaxTokens', 'modelBaseUrl'] as const;
    if (!keys.some((key) => changed.has(key))) return;
    const model = this.localLlm?.trim();
    const dtype = this.localLlmDtype?.trim();
    this.localLlmController.configure(
      model
        ? {
            model,
            device: validateEnum('local-llm-device', this.localLlmDevice, LLM_DEVICE_PREFERENCES, 'auto', this.warn),
            dtype: dtype || undefined,
            maxNewTokens: validateNumber(LOCAL_LLM_MAX_TOKENS, this.localLlmMaxTokens, this.warn),
            modelBaseUrl: this.resolvedModelBaseUrl,
          }
        : null,
    );
  }

  /** `language`, else the nearest `lang` (primary subtag), else `auto`. */
  private resolveLanguage(): string {
    const explicit = this.language?.trim().toLowerCase();
    if (explicit) {
      if (explicit === 'auto' || /^[a-z]{2,3}(-[a-z0-9]+)*$/.test(explicit)) return explicit.split('-')[0]!;
      this.warn(`language="${this.language}" is not a language code or "auto"; using auto.`);
      return 'auto';
    }
    const inherited = this.closest('[lang]')?.getAttribute('lang')?.trim().toLowerCase();
    return inherited && /^[a-z]{2,3}\b/.test(inherited) ? inherited.split('-')[0]! : 'auto';
  }

  /** The validated model base URL (no trailing slash), or undefined for the public hubs. */
  get effectiveModelBaseUrl(): string | undefined {
    return this.resolvedModelBaseUrl;
  }

  // ── state machine plumbing ──────────────────────────────────────────────────────────

  /** Feeds the turn machine and carries out what it decides. */
  private input(input: TurnInput): void {
    const previous = this.currentState;
    const { state, effects } = transition(previous, input, {
      micHeld: this.audioHeld,
      interruptions: this.interruptionsOn,
      replyHeld: this.replyHeld,
      replyActivity: this.speech.isSpeaking ? 'speaking' : this.loop.busy ? 'thinking' : 'none',
    });
    for (const effect of effects) {
      if (effect.type === 'acquire-audio') this.audioHeld = true;
      if (effect.type === 'release-audio') this.audioHeld = false;
    }
    if (state !== previous) {
      this.currentState = state;
      this.syncState();
      this.dispatchEvent(new VoiceStateChangeEvent({ state, previous }));
    }
    if (previous === 'speaking' && state === 'listening' && this.vadTurnOpen && this.recognizedTurnId === null) {
      // A turn the VAD opened on the agent's own voice would swallow the visitor's next words.
      void this.vad.dropTurn();
      this.endVadTurn();
    }
    for (const effect of effects) this.runEffect(effect);
  }

  private runEffect(effect: TurnEffect): void {
    switch (effect.type) {
      case 'acquire-audio':
        this.error = null;
        this.acquiring = this.acquireAudio().finally(() => {
          this.acquiring = null;
        });
        return;
      case 'release-audio':
        this.releaseAudio();
        return;
      case 'begin-manual-turn':
        void this.vad.beginManualTurn();
        return;
      case 'end-manual-turn':
        void this.vad.endManualTurn();
        return;
      case 'deliver-turn':
        this.deliverTurn();
        return;
      case 'hold-reply':
        this.replyHeld = true;
        this.speech.hold();
        this.debugRecord({ kind: 'barge-in', outcome: 'hold', decidedAt: wallClockMs(), ...this.bargeInEvidence });
        this.bargeInEvidence = {};
        return;
      case 'resume-reply':
        this.replyHeld = false;
        this.speech.resume();
        this.debugRecord({ kind: 'barge-in', outcome: 'resume', decidedAt: wallClockMs() });
        return;
      case 'drop-reply':
        this.replyHeld = false;
        this.dropReply();
        this.debugRecord({ kind: 'barge-in', outcome: 'drop', decidedAt: wallClockMs() });
        return;
    }
  }

  private async acquireAudio(): Promise<void> {
    const session = ++this.audioSession;
    try {
      // The recognizer loads alongside but is not waited for: turns spoken before it is
      // ready queue for it (nothing is lost), and a recognizer that fails to load leaves
      // turn detection working (reported through voice-error).
      void this.asr.load();
      const [, frames] = await Promise.all([this.vad.load(), this.mic.open()]);
      if (session !== this.audioSession) return;
      await this.vad.start(frames, this.turnOptions, this.debug);
      if (session !== this.audioSession) return;
      this.input({ type: 'audio-ready' });
      if (this.resolvedMode === 'push-to-talk' && this.talkHeld) this.input({ type: 'talk-pressed' });
    } catch (error) {
      if (session !== this.audioSession || error instanceof MicOpenCancelled) return;
      this.reportError(VoiceAgentError.from(error));
      this.input({ type: 'audio-failed' });
    }
  }

  private releaseAudio(): void {
    this.audioSession++;
    if (this.replyHeld) {
      this.replyHeld = false;
      this.speech.resume();
    }
    this.vadTurnConfirmed = false;
    this.recognizedTurnId = null;
    this.pendingTurn = null;
    this.awaitingTranscripts.clear();
    // Like the VAD worker, the recognizer is terminated: stop() frees the memory. Its
    // weights stay in Cache Storage, so the next start() does not download them again.
    this.asr.dispose();
    this.setLevel(0);
    void this.mic.close();
    // Terminate rather than idle the VAD worker: stop() promises to free everything
    // (memory included). The next start() reloads it from the HTTP cache in well under
    // a second; preload() can warm it again ahead of time.
    this.vad.dispose();
  }

  private handleVadEvent(event: VadEvent): void {
    switch (event.type) {
      case 'speech-onset':
        this.vadTurnOpen = true;
        return;
      case 'speech-sustained':
        this.considerBargeIn(event);
        return;
      case 'speech-start':
        this.turnId++;
        this.vadTurnConfirmed = true;
        this.vadTurnStartMs = event.startMs;
        this.input({ type: 'speech-start' });
        this.takeVisitorTurn();
        return;
      case 'speech-audio':
        if (this.recognizedTurnId !== null) this.asr.appendAudio(this.recognizedTurnId, event.audio, event.trailingSilenceSamples);
        return;
      case 'speech-end':
        this.pendingTurn = event;
        this.input({ type: 'speech-end', transcribe: this.asr.available && this.recognizedTurnId !== null });
        this.pendingTurn = null;
        this.endVadTurn();
        return;
      case 'misfire':
        this.input({ type: 'misfire' });
        this.endVadTurn();
        return;
      case 'frames':
        this.dispatchEvent(new VoiceDebugEvent({ kind: 'vad-frames', frames: event.records }));
        return;
      case 'failure':
        this.reportError(new VoiceAgentError('worker-failed', event.message));
        this.input({ type: 'audio-lost' });
        return;
    }
  }

  /**
   * The confirmed VAD turn is the visitor's (state user-speaking: not an answer's echo):
   * the recognizer starts on it and `voice-speech-start` goes out. Runs at speech-start,
   * or at a barge-in that comes after it. Turns heard while the agent speaks undisturbed
   * are left alone (no recognizer work spent on our own voice).
   */
  private takeVisitorTurn(): void {
    if (!this.vadTurnConfirmed || this.recognizedTurnId !== null || this.currentState !== 'user-speaking') return;
    this.recognizedTurnId = this.turnId;
    this.asr.beginTurn(this.turnId);
    this.dispatchEvent(new VoiceSpeechStartEvent({ startMs: this.vadTurnStartMs }));
  }

  private endVadTurn(): void {
    this.vadTurnOpen = false;
    this.vadTurnConfirmed = false;
    this.recognizedTurnId = null;
  }

  /**
   * Sustained speech while the agent answers: a barge-in, unless the echo gate puts it down
   * to the agent's own voice. Then the VAD forgets that turn, so the next stretch of speech
   * is judged afresh (and a visitor who starts talking does not inherit seconds of echo).
   */
  private considerBargeIn(event: Extract<VadEvent, { type: 'speech-sustained' }>): void {
    const answering = this.currentState === 'speaking' || this.currentState === 'thinking';
    if (!answering || !this.interruptionsOn || this.replyHeld || !this.audioHeld) return;
    // The worker's clock is the page's: the onset is as long before `emittedAt` as the stream says.
    const onsetAt = event.emittedAt - (event.atMs - event.onsetMs);
    const micRms = event.rms;
    // The agent's voice that could be echoing in this speech: the loudest of the echo tail
    // before it (`rms` covers the last SUSTAINED_SPEECH_MS).
    // The window reaches a little past now: the reported output position can lag what the
    // speakers (and so the microphone) already have.
    const speechFrom = event.emittedAt - SUSTAINED_SPEECH_MS;
    const output = this.speech.outputLevelBetween(speechFrom - ECHO_TAIL_MS, event.emittedAt + OUTPUT_CLOCK_SLACK_MS);
    const expectedEchoRms = this.echoGate.expectedEcho(output);
    if (this.echoGate.isEcho(micRms, output)) {
      this.debugRecord({ kind: 'barge-in', outcome: 'echo', decidedAt: wallClockMs(), onsetAt, micRms, outputRms: output, expectedEchoRms });
      return;
    }
    // The level readings of this speech were the visitor, not echo: unlearn them (a little
    // further back too, for checks of this speech that fell short of the gate).
    this.echoGate.forgetSince(speechFrom - VISITOR_READINGS_MS);
    // The turn so far may be mostly echo: the recognizer gets it from just before this speech.
    void this.vad.trimTurn(event.onsetMs, SUSTAINED_SPEECH_MS + this.turnOptions.preSpeechPadMs);
    this.bargeInEvidence = { onsetAt, micRms, outputRms: output, expectedEchoRms };
    this.heldAfterTurnId = this.vadTurnConfirmed ? this.turnId - 1 : this.turnId;
    this.input({ type: 'barge-in' });
    this.takeVisitorTurn();
  }

  /** Abandons the answer: what was heard is recorded first, then the responder is aborted. */
  private dropReply(): void {
    this.speech.interrupt();
    this.loop.cancel();
  }

  private deliverTurn(): void {
    const event = this.pendingTurn;
    if (!event || event.type !== 'speech-end') return;
    const detail: VoiceSpeechEndDetail = {
      audio: event.audio,
      durationMs: (event.audio.length / 16_000) * 1000,
      startMs: event.startMs,
      endMs: event.endMs,
      endOfTurnDelayMs: event.lastSpeechAt ? Math.max(0, wallClockMs() - event.lastSpeechAt) : 0,
      vadMsPerFrame: event.vadMsPerFrame ?? 0,
    };
    this.dispatchEvent(new VoiceSpeechEndEvent(detail));
    this.lastVoicedAt = wallClockMs() - detail.endOfTurnDelayMs;
    if (this.asr.available) {
      this.awaitingTranscripts.add(this.turnId);
      this.asr.endTurn(this.turnId, event.audio, event.lastSpeechSample, event.speechMs);
    } else {
      this.addCaption('note', `You spoke for ${(detail.durationMs / 1000).toFixed(1)} s`);
    }
  }

  private handleTranscript(received: TranscriptUpdate): void {
    let update = received;
    if (update.text) {
      this.dispatchEvent(
        new VoiceTranscriptEvent({ text: update.text, final: update.final, language: update.language, source: 'speech' }),
      );
    }
    if (update.text && this.replyHeld && update.turnId > this.heldAfterTurnId) {
      if (echoesAgent(update.text, `${this.agentSpeech.earlier} ${this.agentSpeech.current}`)) {
        // The agent's own words came back (the level gate let them through): not the visitor.
        this.debugRecord({ kind: 'barge-in', outcome: 'echo', decidedAt: wallClockMs(), transcript: update.text });
        update = { ...update, text: '' };
      } else {
        this.input({ type: 'words-heard' });
      }
    }
    if (!update.final) return;
    if (update.text) this.addCaption('user', update.text);
    this.awaitingTranscripts.delete(update.turnId);
    if (this.awaitingTranscripts.size === 0) this.input({ type: 'transcribed' });
    if (update.text) this.answer(update.text, 'speech');
  }

  /** Hands a visitor turn to the conversation loop; a newer turn replaces an answer under way. */
  private answer(text: string, source: 'speech' | 'text'): void {
    const now = wallClockMs();
    this.timing = {
      turnId: 0,
      source,
      startedAt: source === 'speech' && this.lastVoicedAt ? this.lastVoicedAt : now,
      transcriptAt: now,
      firstTokenAt: null,
    };
    // The speech layer first: it reports what was heard, which the history keeps.
    if (this.loop.busy) this.dropReply();
    void this.loop.runTurn(text, source);
  }

  /** Dispatches `voice-metrics` once per answered turn: at its first audio, or at its end. */
  private reportMetrics(firstAudioAt: number | null): void {
    const timing = this.timing;
    // Only answers (a responder ran: turnId set) are measured, not page `say()` calls.
    if (!timing || timing.turnId === 0) return;
    this.timing = null;
    const since = (at: number | null) => (at === null ? null : Math.max(0, at - timing.startedAt));
    this.dispatchEvent(
      new VoiceMetricsEvent({
        turnId: timing.turnId,
        source: timing.source,
        transcriptMs: since(timing.transcriptAt)!,
        firstTokenMs: since(timing.firstTokenAt),
        firstAudioMs: since(firstAudioAt),
        voiceToVoiceMs: since(firstAudioAt),
      }),
    );
  }

  // ── UI state ────────────────────────────────────────────────────────────────────────

  private syncState(): void {
    this.setAttribute('state', this.currentState);
    const states = this.internals?.states;
    if (!states) return;
    for (const name of AGENT_STATES) {
      try {
        if (name === this.currentState) states.add(name);
        else states.delete(name);
      } catch {
        // Engines with the older `--dashed` CustomStateSet syntax reject plain names.
        return;
      }
    }
  }

  private noteResponse(detail: VoiceResponseDetail): void {
    this.agentSpeech.current = detail.text;
    this.dispatchEvent(new VoiceResponseEvent(detail));
  }

  private noteResponseEnd(detail: VoiceResponseEndDetail): void {
    this.agentSpeech = { earlier: `${this.agentSpeech.earlier} ${detail.heardText}`.slice(-AGENT_SPEECH_KEPT_CHARS), current: '' };
    this.dispatchEvent(new VoiceResponseEndEvent(detail));
  }

  private debugRecord(detail: VoiceDebugDetail): void {
    if (this.debug) this.dispatchEvent(new VoiceDebugEvent(detail));
  }

  private reportError(error: VoiceAgentError): void {
    this.error = error.toDetail();
    this.dispatchEvent(new VoiceErrorEvent(error.toDetail()));
  }

  private handleLevel(rms: number): void {
    this.setLevel(rms);
    // While the agent speaks undisturbed, every reading teaches the echo gate the echo path.
    if (this.currentState === 'speaking' && !this.replyHeld) {
      const now = wallClockMs();
      this.echoGate.observe(rms, this.speech.outputLevelBetween(now - LEVEL_INTERVAL_MS - ECHO_TAIL_MS, now + OUTPUT_CLOCK_SLACK_MS), now);
    }
    this.dispatchEvent(new VoiceLevelEvent({ source: 'input', rms, dbfs: rmsToDbfs(rms) }));
  }

  /** Drives the button's glow directly: a re-render 20 times a second buys nothing. */
  private setLevel(rms: number): void {
    // Map -60..-10 dBFS onto 0..1 so normal speech fills the range.
    const level = Math.min(1, Math.max(0, (rmsToDbfs(rms) + 60) / 50));
    this.button?.style.setProperty('--level', level.toFixed(2));
  }

  private handleProgress(model: string, progress: FileProgress): void {
    this.downloads.set(`${model}/${progress.file}`, progress);
    let loaded = 0;
    let total = 0;
    for (const file of this.downloads.values()) {
      loaded += file.loaded;
      total += file.total || file.loaded;
    }
    this.downloadFraction = total > 0 && loaded < total ? loaded / total : null;
    this.dispatchEvent(new VoiceModelProgressEvent({ model, ...progress }));
  }

  private addCaption(speaker: Caption['speaker'], text: string): void {
    const next = [...this.captions, { id: ++this.captionId, speaker, text }];
    this.captions = next.length > MAX_CAPTIONS ? next.slice(next.length - MAX_CAPTIONS) : next;
  }

  private sendText(raw: string): void {
    const text = String(raw ?? '').trim();
    if (!text) return;
    this.addCaption('user', text);
    this.dispatchEvent(new VoiceTranscriptEvent({ text, final: true, language: 'und', source: 'text' }));
    this.answer(text, 'text');
  }

  // ── input handlers ──────────────────────────────────────────────────────────────────

  private readonly handleButtonClick = () => {
    if (this.resolvedMode !== 'hands-free') return;
    if (this.micHeld) void this.stop();
    else void this.start();
  };

  private readonly handleTalkDown = (event: PointerEvent | KeyboardEvent) => {
    if (this.resolvedMode !== 'push-to-talk') return;
    if (event instanceof KeyboardEvent) {
      if ((event.key !== ' ' && event.key !== 'Enter') || event.repeat) return;
      event.preventDefault();
    } else if (event.button !== 0) {
      return;
    }
    this.talkHeld = true;
    if (this.currentState === 'idle' || this.currentState === 'error') void this.start();
    else this.input({ type: 'talk-pressed' });
  };

  private readonly handleTalkUp = (event: PointerEvent | KeyboardEvent) => {
    if (this.resolvedMode !== 'push-to-talk' || !this.talkHeld) return;
    if (event instanceof KeyboardEvent) {
      if (event.key !== ' ' && event.key !== 'Enter') return;
      event.preventDefault();
    }
    this.talkHeld = false;
    this.input({ type: 'talk-released' });
  };

  private readonly handleSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('message') as HTMLInputElement | null;
    if (!input) return;
    this.send(input.value);
    input.value = '';
  };

  // ── rendering ───────────────────────────────────────────────────────────────────────

  private statusText(): string {
    switch (this.currentState) {
      case 'idle':
        return this.resolvedMode === 'text'
          ? 'Type a message below.'
          : this.resolvedMode === 'push-to-talk'
            ? 'Hold the button and talk.'
            : 'Press the button to talk.';
      case 'loading':
        return this.downloadFraction === null
          ? 'Starting…'
          : `Loading models… ${Math.round(this.downloadFraction * 100)}%`;
      case 'listening':
        return this.resolvedMode === 'push-to-talk' ? 'Hold the button and talk.' : 'Listening…';
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

  private buttonLabel(): string {
    if (this.resolvedMode === 'push-to-talk') return 'Hold to talk';
    return this.micHeld ? 'Stop listening' : 'Start talking';
  }

  protected override render() {
    const mode = this.resolvedMode;
    const active = this.micHeld;
    const pressed = mode === 'push-to-talk' ? this.talkHeld : active;
    return html`
      <div part="container" class="agent">
        <div class="agent__header">
          ${mode === 'text'
            ? nothing
            : html`<button
                part="button"
                class="agent__button"
                type="button"
                aria-label=${this.buttonLabel()}
                aria-pressed=${pressed ? 'true' : 'false'}
                @click=${this.handleButtonClick}
                @pointerdown=${this.handleTalkDown}
                @pointerup=${this.handleTalkUp}
                @pointercancel=${this.handleTalkUp}
                @pointerleave=${this.handleTalkUp}
                @keydown=${this.handleTalkDown}
                @keyup=${this.handleTalkUp}
              >
                ${active && mode === 'hands-free' ? STOP_ICON : MIC_ICON}
              </button>`}
          <div part="status" class="agent__status" role="status" aria-live="polite">${this.statusText()}</div>
        </div>
        ${this.downloadFraction === null
          ? nothing
          : html`<progress
              part="progress"
              class="agent__progress"
              max="1"
              .value=${this.downloadFraction}
              aria-label="Model download"
            ></progress>`}
        <ol part="captions" class="agent__captions" aria-live="polite" aria-label="Conversation">
          ${this.captions.map(
            (caption) =>
              html`<li part="caption" class="agent__caption agent__caption--${caption.speaker}">
                ${caption.speaker === 'note'
                  ? caption.text
                  : html`<span class="agent__caption-speaker">${caption.speaker === 'user' ? 'You' : 'Agent'}:</span>
                      ${caption.text}`}
              </li>`,
          )}
        </ol>
        <div part="error" class="agent__error" role="alert" ?hidden=${!this.error}>${this.error?.message ?? ''}</div>
        <form part="text-form" class="agent__form" @submit=${this.handleSubmit}>
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
}

if (!customElements.get('voice-agent')) {
  customElements.define('voice-agent', VoiceAgent);
} else if (customElements.get('voice-agent') !== VoiceAgent) {
  console.warn('<voice-agent>: another copy of voice-agent.js already defined the element; this copy is unused.');
}

declare global {
  interface HTMLElementTagNameMap {
    'voice-agent': VoiceAgent;
  }
}
