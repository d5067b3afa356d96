/**
 * Where `<voice-agent>`'s attributes and properties become settings: every option is
 * validated here (warn once, use the default, never throw) and handed to the port or
 * the session that uses it. Only what changed is resolved again.
 */
import { LOCAL_LLM_MAX_TOKENS, LLM_DEVICE_PREFERENCES, type LlmDevicePreference } from './answering/llm-plan.ts';
import { MAX_TOKENS, localMaxNewTokens } from './answering/reply-limits.ts';
import { ASR_DEVICE_PREFERENCES, ASR_TASKS, englishOnlyMismatch, parseDtype, type AsrDevicePreference, type AsrTask } from './hearing/asr-plan.ts';
import {
  DEFAULT_TURN_DETECTION,
  SPEAKING_RATE,
  VOICE_AGENT_MODES,
  resolveTurnDetection,
  validateBaseUrl,
  validateEnum,
  validateNumber,
  type EndOfTurnMode,
  type TurnDetectionOptions,
  type VoiceAgentMode,
} from './platform/options.ts';
import type { BrowserPorts } from './session/browser-ports.ts';
import type { VoiceSession } from './session/voice-session.ts';
import { DEFAULT_VOICE_ID } from './speaking/piper-voice.ts';

/** The element's public options, as a page author set them (unvalidated). */
export interface VoiceAgentOptions {
  modelBaseUrl: string | undefined;
  localOnly: boolean;
  silenceMs: number | undefined;
  vadThreshold: number | undefined;
  minSpeechMs: number | undefined;
  endOfTurn: EndOfTurnMode | undefined;
  debug: boolean;
  mode: VoiceAgentMode;
  asrModel: string | undefined;
  asrDevice: AsrDevicePreference;
  asrDtype: string | undefined;
  language: string | undefined;
  task: AsrTask;
  llmUrl: string | undefined;
  llmModel: string | undefined;
  interruptions: 'on' | 'off';
  systemPrompt: string | undefined;
  llmHeaders: Readonly<Record<string, string>> | undefined;
  llmToken: (() => string | null | undefined | Promise<string | null | undefined>) | undefined;
  localLlm: string | undefined;
  localLlmDevice: LlmDevicePreference;
  localLlmDtype: string | undefined;
  localLlmMaxTokens: number | undefined;
  maxTokens: number | undefined;
  voice: string;
  speakingRate: number | undefined;
}

type Key = keyof VoiceAgentOptions;

/** What `apply` needs besides the options themselves. */
export interface SettingsTargets {
  readonly session: VoiceSession;
  readonly ports: BrowserPorts;
  readonly warn: (message: string) => void;
  /** The page's base URL, for relative `model-base-url` / `llm-url`. */
  readonly baseUri: string;
  /** The nearest `lang` around the element (for `language` unset). */
  readonly inheritedLang: () => string | null | undefined;
}

/**
 * Resolves the options in `changed` (all of them on the first call) and configures the
 * session and ports. Returns the validated mode and model base URL the element renders with.
 */
export class SettingsResolver {
  mode: VoiceAgentMode = 'hands-free';
  modelBaseUrl: string | undefined;
  private turnDetection: TurnDetectionOptions = DEFAULT_TURN_DETECTION;
  private maxTokens = MAX_TOKENS.defaultValue;

  constructor(private readonly targets: SettingsTargets) {}

  apply(options: VoiceAgentOptions, changed: { has(key: Key): boolean }): void {
    const { session, ports, warn, baseUri } = this.targets;
    const any = (...keys: Key[]) => keys.some((key) => changed.has(key));
    if (any('modelBaseUrl')) this.modelBaseUrl = validateBaseUrl('model-base-url', options.modelBaseUrl, baseUri, warn);
    if (any('mode')) this.mode = validateEnum('mode', options.mode, VOICE_AGENT_MODES, 'hands-free', warn);
    if (any('mode')) session.configure({ mode: this.mode });
    if (any('debug')) session.configure({ debug: options.debug });
    if (any('interruptions')) {
      session.configure({
        interruptions: validateEnum('interruptions', options.interruptions, ['on', 'off'] as const, 'on', warn) === 'on',
      });
    }
    if (any('silenceMs', 'vadThreshold', 'minSpeechMs', 'endOfTurn')) {
      const { silenceMs, vadThreshold, minSpeechMs, endOfTurn } = options;
      this.turnDetection = resolveTurnDetection({ silenceMs, vadThreshold, minSpeechMs, endOfTurn }, warn);
      session.configure({ turnDetection: this.turnDetection });
    }
    // The end-of-turn model is loaded by the turn detector, from `model-base-url`.
    if (any('endOfTurn', 'modelBaseUrl', 'localOnly')) ports.turns.setEndOfTurn(this.turnDetection.endOfTurn, this.modelBaseUrl, options.localOnly);
    if (any('modelBaseUrl', 'localOnly', 'asrModel', 'asrDevice', 'asrDtype', 'language', 'task')) {
      const model = options.asrModel?.trim();
      const { dtype, error } = parseDtype(options.asrDtype);
      if (error) warn(`${error}; using the default for the device.`);
      const language = this.resolveLanguage(options.language);
      const task = validateEnum('task', options.task, ASR_TASKS, 'transcribe', warn);
      // An English-only model asked for another language would give wrong text: warn and
      // let the ladder pick a multilingual one.
      const mismatch = englishOnlyMismatch(model || undefined, language, task);
      if (mismatch) warn(mismatch);
      ports.recognizer.configure({
        enabled: model !== 'none',
        model: (!mismatch && model) || undefined,
        device: validateEnum('asr-device', options.asrDevice, ASR_DEVICE_PREFERENCES, 'auto', warn),
        dtype,
        language,
        task,
        modelBaseUrl: this.modelBaseUrl,
        localOnly: options.localOnly,
      });
    }
    if (any('voice', 'speakingRate', 'modelBaseUrl', 'localOnly')) {
      ports.speaker.settings = {
        // An invalid id is reported (voice-invalid) when a reply is spoken, not replaced.
        voiceId: String(options.voice || DEFAULT_VOICE_ID).trim(),
        modelBaseUrl: this.modelBaseUrl,
        speakingRate: validateNumber(SPEAKING_RATE, options.speakingRate, warn),
        localOnly: options.localOnly,
      };
    }
    if (any('maxTokens')) this.maxTokens = validateNumber(MAX_TOKENS, options.maxTokens, warn);
    if (any('localLlm', 'localLlmDevice', 'localLlmDtype', 'localLlmMaxTokens', 'maxTokens', 'modelBaseUrl', 'localOnly')) {
      const model = options.localLlm?.trim();
      ports.localLlm.configure(
        model
          ? {
              model,
              device: validateEnum('local-llm-device', options.localLlmDevice, LLM_DEVICE_PREFERENCES, 'auto', warn),
              dtype: options.localLlmDtype?.trim() || undefined,
              maxNewTokens: localMaxNewTokens(this.maxTokens, validateNumber(LOCAL_LLM_MAX_TOKENS, options.localLlmMaxTokens, warn)),
              modelBaseUrl: this.modelBaseUrl,
              localOnly: options.localOnly,
            }
          : null,
      );
    }
    if (any('llmUrl', 'llmModel', 'systemPrompt', 'llmHeaders', 'llmToken', 'localLlm', 'maxTokens', 'localOnly')) {
      ports.responder.settings = {
        llmUrl: validateBaseUrl('llm-url', options.llmUrl, baseUri, warn),
        llmModel: options.llmModel?.trim() || undefined,
        systemPrompt: options.systemPrompt?.trim() || undefined,
        headers: options.llmHeaders,
        getToken: options.llmToken,
        maxTokens: this.maxTokens,
        localResponder: ports.localLlm.enabled ? ports.localLlm.responder : undefined,
        localOnly: options.localOnly,
      };
    }
  }

  /** `language`, else the nearest `lang` (primary subtag), else `auto`. */
  private resolveLanguage(language: string | undefined): string {
    const explicit = language?.trim().toLowerCase();
    if (explicit) {
      if (explicit === 'auto' || /^[a-z]{2,3}(-[a-z0-9]+)*$/.test(explicit)) return explicit.split('-')[0]!;
      this.targets.warn(`language="${language}" is not a language code or "auto"; using auto.`);
      return 'auto';
    }
    const inherited = this.targets.inheritedLang()?.trim().toLowerCase();
    return inherited && /^[a-z]{2,3}\b/.test(inherited) ? inherited.split('-')[0]! : 'auto';
  }
}
