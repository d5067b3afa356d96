import type { VoiceDebugDetail } from '../events/debug.ts';
import { echoesAgent } from '../hearing/transcript-filter.ts';
import { wallClockMs } from '../platform/clock.ts';
import { LEVEL_INTERVAL_MS, type VadEvent } from '../platform/protocol.ts';
import { ECHO_TAIL_MS, EchoGate } from '../turns/echo-gate.ts';
import { SUSTAINED_SPEECH_MS } from '../turns/speech-segmenter.ts';

/** Level readings this long before a barge-in's last 160 ms are unlearned with it as the visitor's. */
const VISITOR_READINGS_MS = 300;

/** How far the output's reported position may lag the sound actually leaving the speakers. */
const OUTPUT_CLOCK_SLACK_MS = 250;

/** Characters of the agent's recent speech kept for the transcript echo check. */
const AGENT_SPEECH_KEPT_CHARS = 600;

/** The agent's output level between two wall-clock times (the speaker port's `outputLevelBetween`). */
export type OutputLevel = (fromWallMs: number, toWallMs: number) => number;

export type BargeInVerdict =
  /** The agent's own voice: the record says why. */
  | { readonly interrupts: false; readonly record: VoiceDebugDetail }
  /** The visitor: hold the answer. `evidence` goes into the hold's debug record. */
  | { readonly interrupts: true; readonly evidence: Omit<Extract<VoiceDebugDetail, { kind: 'barge-in' }>, 'kind' | 'outcome' | 'decidedAt'> };

/**
 * Tells the visitor talking over an answer from the answer's own echo: by level (the
 * {@link EchoGate}, taught by every microphone reading while the agent speaks) and, once
 * the visitor's words are transcribed, by text (the agent's recent words coming back).
 */
export class BargeInJudge {
  private readonly echoGate = new EchoGate();
  /** What the agent said lately (heard parts). */
  private agentSpeech = { earlier: '', current: '' };

  constructor(private readonly outputLevel: OutputLevel) {}

  /** A microphone level reading while the agent speaks undisturbed: the echo path, learned. */
  observe(micRms: number): void {
    const now = wallClockMs();
    this.echoGate.observe(micRms, this.outputLevel(now - LEVEL_INTERVAL_MS - ECHO_TAIL_MS, now + OUTPUT_CLOCK_SLACK_MS), now);
  }

  /**
   * Sustained speech over the answer. A barge-in unlearns the level readings it was made
   * of: they were the visitor, not echo (a little further back too, for checks of this
   * speech that fell short of the gate).
   */
  judge(event: Extract<VadEvent, { type: 'speech-sustained' }>): BargeInVerdict {
    // The worker's clock is the page's: the onset is as long before `emittedAt` as the stream says.
    const onsetAt = event.emittedAt - (event.atMs - event.onsetMs);
    const micRms = event.rms;
    // The agent's voice that could be echoing in this speech: the loudest of the echo tail
    // before it (`rms` covers the last SUSTAINED_SPEECH_MS). The window reaches a little
    // past now: the reported output position can lag what the speakers already have.
    const speechFrom = event.emittedAt - SUSTAINED_SPEECH_MS;
    const outputRms = this.outputLevel(speechFrom - ECHO_TAIL_MS, event.emittedAt + OUTPUT_CLOCK_SLACK_MS);
    const expectedEchoRms = this.echoGate.expectedEcho(outputRms);
    if (this.echoGate.isEcho(micRms, outputRms)) {
      return {
        interrupts: false,
        record: { kind: 'barge-in', outcome: 'echo', decidedAt: wallClockMs(), onsetAt, micRms, outputRms, expectedEchoRms },
      };
    }
    this.echoGate.forgetSince(speechFrom - VISITOR_READINGS_MS);
    return { interrupts: true, evidence: { onsetAt, micRms, outputRms, expectedEchoRms } };
  }

  /** The agent's words (heard so far) of the answer playing now. */
  hearing(text: string): void {
    this.agentSpeech.current = text;
  }

  /** An answer ended with `heardText` heard. */
  heard(heardText: string): void {
    this.agentSpeech = { earlier: `${this.agentSpeech.earlier} ${heardText}`.slice(-AGENT_SPEECH_KEPT_CHARS), current: '' };
  }

  /** A transcript that is the agent's own recent words coming back (the level gate let them through). */
  isAgentEcho(transcript: string): boolean {
    return echoesAgent(transcript, `${this.agentSpeech.earlier} ${this.agentSpeech.current}`);
  }
}
