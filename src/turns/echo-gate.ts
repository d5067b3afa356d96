import { quantile } from '../platform/stats.ts';

/**
 * How long after the agent's voice its echo may still be arriving: output and input
 * latency (up to a few hundred ms with Bluetooth), the room's reverberation, and the
 * canceller's own delay. The gate compares speech with the loudest output over this long.
 */
export const ECHO_TAIL_MS = 1000;

/**
 * Tells the visitor talking over the agent from the agent hearing its own voice.
 *
 * With speakers and no headset, the microphone picks up the agent's reply. The browser's
 * echo canceller (`echoCancellation: true`, which the element asks for) removes most of it
 * when it covers the output path, but not always all (a fresh canceller needs a second or
 * two to converge; some devices and virtual cables bypass it), and Silero scores a residue
 * of speech as speech. This gate knows the agent's own audio — the level of what the
 * element played during the last {@link ECHO_TAIL_MS} — and learns from it, while the agent
 * speaks, how strongly that comes back into the microphone (the echo coupling: the echo
 * path's gain after the browser's canceller, against the loudest recent output).
 *
 * Speech over the agent counts as the visitor only when it is clearly louder than the
 * loudest echo the recent output could produce (`margin` × coupling × output), and not
 * faint: a Geigel double-talk detector (a maximum over the echo tail, so no delay has to
 * be estimated), with a learned instead of a fixed echo return loss.
 *
 * Until it has learned (`minReadings`), the gate assumes a coupling of `initialCoupling`
 * (1: the echo may be as loud as the output), so the first moments of the agent's first
 * answer need a loud interruption. With the browser's canceller working the learned
 * coupling is small and ordinary speech gets through. Pure: no DOM, no clocks; levels are
 * RMS in 0..1.
 *
 * @example
 * const gate = new EchoGate();
 * gate.observe(micRms, loudestOutputOfTheLastSecond);   // every level reading while the agent speaks
 * gate.isEcho(speechRms, loudestOutputOfTheLastSecond); // when speech over the agent is detected
 */
export class EchoGate {
  /** Recent readings: the mic/output ratio and when it was taken (any clock the caller likes). */
  private readonly readings: { ratio: number; at: number }[] = [];
  private readonly options: Required<EchoGateOptions>;

  constructor(options: EchoGateOptions = {}) {
    this.options = { ...DEFAULT_ECHO_GATE, ...options };
  }

  /**
   * A microphone level reading taken at `at` while the agent was speaking (and not
   * interrupted). Once the coupling is learned, a reading the gate would let through is
   * not learned from: it is double talk (the visitor), and learning it would raise the bar
   * for the very interruption under way — adaptation freezes, as an echo canceller's does.
   */
  observe(micRms: number, outputRms: number, at = 0): void {
    if (!(outputRms >= this.options.silentOutputRms) || !(micRms >= 0)) return;
    const ratio = micRms / outputRms;
    if (this.readings.length >= this.options.minReadings && ratio >= this.options.margin * this.coupling) return;
    this.readings.push({ ratio, at });
    if (this.readings.length > this.options.window) this.readings.shift();
  }

  /**
   * Forgets the readings taken at or after `at`: they were the visitor starting to talk
   * over the agent (a barge-in found it), not echo, and would teach the gate to expect an
   * echo as loud as the visitor — and to let the next interruption through only louder.
   */
  forgetSince(at: number): void {
    while (this.readings.length > 0 && this.readings.at(-1)!.at >= at) this.readings.pop();
  }

  /** The microphone level per unit of (recent peak) output level, as learned so far. */
  get coupling(): number {
    const { minReadings, initialCoupling, couplingQuantile, minCoupling, maxCoupling } = this.options;
    if (this.readings.length < minReadings) return initialCoupling;
    const ratios = this.readings.map((r) => r.ratio);
    return Math.min(maxCoupling, Math.max(minCoupling, quantile(ratios, couplingQuantile)));
  }

  /** The level of echo expected in the microphone for this output level. */
  expectedEcho(outputRms: number): number {
    return outputRms < this.options.silentOutputRms ? 0 : this.coupling * outputRms;
  }

  /**
   * True when speech at `micRms` is explained by the agent's own voice, the loudest output
   * of the last {@link ECHO_TAIL_MS} being `outputRms`: it is within `margin` of the
   * expected echo, or (while the agent is audible at all) fainter than `minSpeechRms` —
   * Silero keeps scoring the faint tail of a word after the voice stops.
   */
  isEcho(micRms: number, outputRms: number): boolean {
    const echo = this.expectedEcho(outputRms);
    if (echo === 0) return false;
    return micRms < this.options.minSpeechRms || micRms < this.options.margin * echo;
  }

  /** Forgets the learned coupling (a new microphone or output device). */
  reset(): void {
    this.readings.length = 0;
  }
}

export interface EchoGateOptions {
  /** Speech must be this many times louder than the predicted echo (2 ≈ 6 dB). */
  readonly margin?: number;
  /** Coupling assumed until `minReadings` readings were seen. */
  readonly initialCoupling?: number;
  /** Readings needed before the learned coupling is used (10 = half a second of speaking). */
  readonly minReadings?: number;
  /** Readings kept (the most recent). At one per 50 ms, 120 is the last 6 s of speaking. */
  readonly window?: number;
  /** Which quantile of the level ratios is the coupling: high, so loud stretches of echo are covered. */
  readonly couplingQuantile?: number;
  readonly minCoupling?: number;
  readonly maxCoupling?: number;
  /** Output quieter than this is silence: it predicts no echo and teaches nothing. */
  readonly silentOutputRms?: number;
  /** While the agent is audible, speech must be at least this loud to interrupt (−46 dBFS). */
  readonly minSpeechRms?: number;
}

export const DEFAULT_ECHO_GATE: Required<EchoGateOptions> = {
  margin: 2,
  initialCoupling: 1,
  minReadings: 10,
  window: 120,
  couplingQuantile: 0.95,
  minCoupling: 0.01,
  maxCoupling: 2,
  silentOutputRms: 0.003,
  minSpeechRms: 0.005,
};
