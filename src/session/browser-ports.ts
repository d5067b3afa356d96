import type { ReactiveControllerHost } from 'lit';
import { ConversationController } from '../answering/conversation-controller.ts';
import { LocalLlmController } from '../answering/local-llm-controller.ts';
import { MicController } from '../audio/mic-controller.ts';
import { AsrController } from '../hearing/asr-controller.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import { SpeechController } from '../speaking/speech-controller.ts';
import { VadController } from '../turns/vad-controller.ts';
import type { SessionPorts, SessionSinks } from './ports.ts';

/**
 * The session's ports in a browser: one Lit controller per stage, each owning its
 * browser resources (workers, the microphone, audio contexts) and releasing them when
 * the host element leaves the DOM. Their reports go straight to the session's sinks.
 *
 * To add an engine (a recognizer, a voice, an end-of-turn model, a responder): implement
 * its port in `ports.ts` and construct it here instead of (or beside) the current one.
 * The controllers stay reachable for the element, which configures them from its attributes.
 */
export class BrowserPorts implements SessionPorts {
  readonly microphone: MicController;
  readonly turns: VadController;
  readonly recognizer: AsrController;
  readonly speaker: SpeechController;
  readonly localLlm: LocalLlmController;
  /** The conversation loop: page code (`voice-turn`), `llm-url`, or `local-llm`. */
  readonly responder: ConversationController;

  constructor(host: ReactiveControllerHost, sinks: SessionSinks) {
    this.microphone = new MicController(host, {
      onLevel: sinks.level,
      onLost: sinks.micLost,
      onDeviceAvailable: () => sinks.micAvailable(),
      onInterrupted: sinks.micInterrupted,
      onResumed: () => sinks.recovered('mic-interrupted'),
    });
    this.turns = new VadController(host, {
      onEvent: sinks.turnEvent,
      onProgress: (progress) => sinks.progress('vad', progress),
      onCrash: sinks.audioLost,
      onError: sinks.error,
    });
    this.recognizer = new AsrController(host, {
      onProgress: (progress) => sinks.progress('asr', progress),
      onTranscript: sinks.transcript,
      onError: sinks.error,
      onDebug: sinks.debug,
    });
    this.speaker = new SpeechController(host, {
      onSpeakingChange: sinks.speakingChange,
      onResponse: sinks.response,
      onResponseEnd: sinks.responseEnd,
      onProgress: (progress) => sinks.progress('tts', progress),
      onError: sinks.error,
      onOutputResumed: () => sinks.recovered('audio-blocked'),
      onChunk: (chunk) => sinks.debug({ kind: 'tts-chunk', chunk }),
      onRestarted: (cause) => sinks.debug({ kind: 'worker-restarted', what: 'speech synthesizer', cause }),
    });
    this.localLlm = new LocalLlmController(host, {
      onProgress: (progress) => sinks.progress('llm', progress),
      onError: sinks.error,
      onDebug: sinks.debug,
    });
    this.responder = new ConversationController(host, {
      dispatchTurn: sinks.turn,
      onReplyStart: sinks.replyStart,
      onFirstDelta: () => sinks.firstDelta(),
      // An answer's clauses go straight to the voice; their progress comes back through the hooks.
      speak: (text, hooks) => this.speaker.say(text, hooks),
      onResponse: sinks.response,
      onResponseEnd: sinks.responseEnd,
      onReplyText: sinks.replyText,
      onError: (error: VoiceAgentError) => sinks.error(error),
      onReplyEnd: () => sinks.replyEnd(),
    });
  }
}
