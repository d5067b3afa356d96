/**
 * Which words of a reply have been heard: maps a playback position (output samples since
 * the reply's first sample) back onto the reply's raw text.
 *
 * Each clause's audio is laid end to end. Within a clause, the voiced part (between the
 * voice's own leading and trailing silence) is spread evenly over the clause's characters
 * — character-level interpolation, which is as precise as a Piper model without
 * alignment output allows — and the result is rounded down to the last whole word, so
 * `heardText` never claims a word that was cut off.
 *
 * DOM-free and unit-tested (`speech-timeline.test.ts`).
 */
import type { Clause } from './speakable-text.ts';

/** One clause's place in the text and in the audio. */
export interface TimelineEntry {
  /** Offsets of the clause in the raw reply text. */
  readonly start: number;
  readonly end: number;
  /** Length of the clause's audio (0 for a clause with nothing to say). */
  readonly frames: number;
  /** Where speech begins and ends inside the clause's audio (frames). */
  readonly voicedStartFrame: number;
  readonly voicedEndFrame: number;
}

export class SpeechTimeline {
  private readonly entries: { entry: TimelineEntry; at: number }[] = [];
  private frames = 0;

  constructor(private readonly text: string) {}

  /** Total audio laid out so far, in frames. */
  get totalFrames(): number {
    return this.frames;
  }

  /** Appends a clause's audio; returns the frame at which it starts. */
  add(entry: TimelineEntry): number {
    const at = this.frames;
    this.entries.push({ entry, at });
    this.frames += entry.frames;
    return at;
  }

  /**
   * The end of the heard prefix (an offset into the text) once `playedFrames` of the
   * reply's audio have been played: always at a word boundary, never decreasing with
   * `playedFrames`.
   */
  heardOffset(playedFrames: number): number {
    let offset = 0;
    for (const { entry, at } of this.entries) {
      const voicedStart = at + entry.voicedStartFrame;
      const voicedEnd = at + entry.voicedEndFrame;
      if (entry.frames === 0 || playedFrames >= voicedEnd) {
        // A silent clause (code, emoji) counts as heard once playback has passed it.
        if (playedFrames >= at) offset = entry.end;
        continue;
      }
      if (playedFrames <= voicedStart) break;
      const fraction = (playedFrames - voicedStart) / Math.max(1, voicedEnd - voicedStart);
      const char = entry.start + Math.floor(fraction * (entry.end - entry.start));
      offset = Math.max(offset, lastWordEnd(this.text, entry.start, char));
      break;
    }
    return offset;
  }

  /** The heard prefix of the text itself. */
  heardText(playedFrames: number): string {
    return this.text.slice(0, this.heardOffset(playedFrames));
  }
}

/**
 * The end of the last word that lies wholly in `[from, upTo)`: the start of the
 * whitespace after it (a word reaching `upTo` counts only if `upTo` is followed by
 * whitespace or the end).
 */
export function lastWordEnd(text: string, from: number, upTo: number): number {
  if (upTo >= text.length) return text.length;
  if (/\s/.test(text[upTo] ?? '')) return trimRight(text, from, upTo);
  for (let i = upTo - 1; i >= from; i--) {
    if (/\s/.test(text[i]!)) return trimRight(text, from, i);
  }
  return from;
}

function trimRight(text: string, from: number, end: number): number {
  while (end > from && /\s/.test(text[end - 1]!)) end--;
  return end;
}

/** Headroom the start delay leaves for jitter in synthesis times, ms. */
const START_MARGIN_MS = 60;
/** A reply never waits longer than this for its first word to start, ms. */
const MAX_START_DELAY_MS = 1500;

/**
 * How long to hold back a reply's first audio so the clauses after it are ready in time
 * (a jitter buffer sized from the first clause, which is a live measurement of this
 * device's synthesis speed right now). Each later clause's cost and length are estimated
 * per character from the first; playback starts late enough that every clause finishes
 * before the audio in front of it runs out. On a device that synthesizes several times
 * faster than real time this is 0 — the clause ramp of the splitter already covers it —
 * and under CPU contention it trades a slightly later start for speech without holes.
 */
export function startDelayMs(
  clauses: readonly Pick<Clause, 'speech'>[],
  firstIndex: number,
  first: { readonly phonemizeMs: number; readonly inferenceMs: number; readonly audioMs: number },
): number {
  const probe = clauses[firstIndex]!.speech.length;
  if (probe === 0 || first.audioMs <= 0) return 0;
  const costPerChar = (first.phonemizeMs + first.inferenceMs) / probe;
  const audioPerChar = first.audioMs / probe;
  let synthesized = 0; // time from now until clause k is ready
  let played = first.audioMs; // audio in front of clause k
  let delay = 0;
  for (const clause of clauses.slice(firstIndex + 1)) {
    if (!clause.speech) continue;
    synthesized += costPerChar * clause.speech.length;
    delay = Math.max(delay, synthesized + START_MARGIN_MS - played);
    played += audioPerChar * clause.speech.length;
  }
  return Math.min(MAX_START_DELAY_MS, Math.max(0, delay));
}
