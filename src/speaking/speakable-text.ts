/**
 * Text-to-speech preparation: cut a (possibly streaming) reply into clauses a voice can
 * start on early, and turn each clause's markdown into something worth saying aloud.
 *
 * Why clauses: Piper synthesizes a whole input at once, at a cost proportional to the
 * audio it makes (≈ 0.1–0.3 × real time in WebAssembly). The first audio can only start
 * once the first input is done, so the first clause is kept short ("Sure, " / "Hello
 * there, "); every later one may be longer, but only as much longer as the audio already
 * queued can cover while it is synthesized — otherwise playback would stall between
 * chunks. `growth` bounds that: a clause may be at most `growth` × the characters already
 * handed out (and never more than `maxChars`), so sizes ramp up 1 : 2 : 6 : 18… and a
 * long sentence is split at a comma (or a space) instead of reaching the model whole.
 *
 * Positions: every clause keeps its `start`/`end` offsets in the raw text, so the element
 * can say which prefix of the *original* reply was heard (`heardText`), even though the
 * words sent to the voice (`speech`) were cleaned.
 *
 * DOM-free and unit-tested (`speakable-text.test.ts`).
 */

/** One piece of a reply, as handed to the voice. */
export interface Clause {
  /** Position in the order of clauses of this reply (0 = first). */
  readonly index: number;
  /** The raw text of the clause: `fullText.slice(start, end)`. */
  readonly text: string;
  /** Offsets in the raw reply text. */
  readonly start: number;
  readonly end: number;
  /** What the voice should say: `toSpeakable(text)`; empty when nothing is speakable. */
  readonly speech: string;
}

export interface ClauseSplitterOptions {
  /**
   * The first clause ends at the first sentence end, or at the first clause mark
   * (, ; : —) after at least this many words.
   */
  readonly firstMinWords: number;
  /** Without such a mark, the first clause is cut at a word boundary after this many words. */
  readonly firstMaxWords: number;
  /** Later clauses may be at most `growth` × the characters emitted before them… */
  readonly growth: number;
  /** …but at least this long (so small first clauses do not produce a trickle)… */
  readonly minChars: number;
  /** …and never longer than this: no unbounded block ever reaches the model. */
  readonly maxChars: number;
}

/**
 * Defaults chosen with `npm run bench:tts` on a 2-core machine (Piper medium, WASM): a
 * first clause of ≤ 4 words takes ~100–150 ms to synthesize, and with the ramp below
 * each next clause is ready before the audio in front of it runs out.
 */
export const DEFAULT_CLAUSE_OPTIONS: ClauseSplitterOptions = {
  firstMinWords: 2,
  firstMaxWords: 4,
  growth: 2,
  minChars: 24,
  maxChars: 220,
};

/** Abbreviations whose period does not end a sentence (lower case, without the period). */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'eg', 'ie', 'a.m', 'p.m',
  'approx', 'no', 'nos', 'fig', 'inc', 'ltd', 'co', 'corp', 'dept', 'est', 'mt', 'jan', 'feb', 'mar', 'apr',
  'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'u.k',
]);

const CLOSERS = `"'”’)]»`;
const SENTENCE_MARKS = '.!?…';
const CLAUSE_MARKS = ',;:—–';

/** The kinds of places a clause may end, best first. */
type CutKind = 'sentence' | 'clause' | 'space';

interface Cut {
  /** Offset just after the cut (the clause is `[cursor, at)`). */
  readonly at: number;
  readonly kind: CutKind;
}

/**
 * Splits a reply, given as it streams in, into clauses. `push()` returns the clauses that
 * are complete so far; `finish()` returns the rest. A whole reply at once is
 * `[...splitter.push(text), ...splitter.finish()]` (or {@link splitClauses}).
 *
 * @example
 * const splitter = new ClauseSplitter();
 * splitter.push('Hello there, how are');   // → [{ text: 'Hello there,', … }]
 * splitter.push(' you today? Fine.');      // → [{ text: 'how are you today?', … }]
 * splitter.finish();                       // → [{ text: 'Fine.', … }]
 */
export class ClauseSplitter {
  private readonly options: ClauseSplitterOptions;
  private buffer = '';
  private cursor = 0;
  private emittedChars = 0;
  private count = 0;
  private finished = false;

  constructor(options: Partial<ClauseSplitterOptions> = {}) {
    this.options = { ...DEFAULT_CLAUSE_OPTIONS, ...options };
  }

  /** Everything pushed so far. */
  get text(): string {
    return this.buffer;
  }

  push(delta: string): Clause[] {
    if (this.finished) throw new Error('ClauseSplitter: push() after finish()');
    this.buffer += delta;
    return this.drain(false);
  }

  finish(): Clause[] {
    if (this.finished) return [];
    this.finished = true;
    return this.drain(true);
  }

  private drain(final: boolean): Clause[] {
    const out: Clause[] = [];
    for (;;) {
      this.cursor = skipSpace(this.buffer, this.cursor);
      if (this.cursor >= this.buffer.length) break;
      const at = this.nextCut(final);
      if (at === null) break;
      const end = trimEnd(this.buffer, this.cursor, at);
      const text = this.buffer.slice(this.cursor, end);
      out.push({ index: this.count++, text, start: this.cursor, end, speech: toSpeakable(text) });
      this.emittedChars += text.length;
      this.cursor = at;
    }
    return out;
  }

  /** Where the clause starting at `cursor` ends, or null to wait for more text. */
  private nextCut(final: boolean): number | null {
    const { buffer, cursor } = this;
    // A fenced code block is one clause of its own (its speech is empty): never cut inside.
    if (atLineStart(buffer, cursor) && buffer.startsWith('```', cursor)) {
      const close = buffer.indexOf('```', cursor + 3);
      if (close === -1) return final ? buffer.length : null;
      const lineEnd = buffer.indexOf('\n', close + 3);
      return lineEnd === -1 ? (final ? buffer.length : null) : lineEnd + 1;
    }
    const first = this.count === 0;
    const limit = first ? Infinity : this.laterLimit();
    const cuts = scanCuts(buffer, cursor, final);
    if (first) {
      for (const cut of cuts) {
        if (cut.kind === 'sentence') return cut.at;
        const words = countWords(buffer, cursor, cut.at);
        if (cut.kind === 'clause' && words >= this.options.firstMinWords) return cut.at;
        if (words >= this.options.firstMaxWords) return cut.at;
      }
      return final ? buffer.length : null;
    }
    let bestClause: number | null = null;
    let bestSpace: number | null = null;
    for (const cut of cuts) {
      if (cut.at - cursor > limit) break;
      if (cut.kind === 'sentence') return cut.at;
      if (cut.kind === 'clause') bestClause = cut.at;
      else bestSpace = cut.at;
    }
    if (buffer.length - cursor <= limit) {
      // Everything left fits: wait for a sentence end (or take it all at the end).
      return final ? buffer.length : null;
    }
    // Too long for one clause: the last clause mark within the limit, else the last space,
    // else a hard cut (a very long "word", e.g. a URL or a run of digits).
    return bestClause ?? bestSpace ?? cursor + limit;
  }

  private laterLimit(): number {
    const { growth, minChars, maxChars } = this.options;
    return Math.max(minChars, Math.min(maxChars, Math.floor(growth * this.emittedChars)));
  }
}

/** Splits a whole text at once. */
export function splitClauses(text: string, options: Partial<ClauseSplitterOptions> = {}): Clause[] {
  const splitter = new ClauseSplitter(options);
  return [...splitter.push(text), ...splitter.finish()];
}

/** Every possible cut after `from`, in order. Inside a code fence nothing is a cut. */
function scanCuts(text: string, from: number, final: boolean): Cut[] {
  const cuts: Cut[] = [];
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      // A line break ends a list item, a heading or a paragraph.
      if (text.startsWith('```', i + 1)) {
        cuts.push({ at: i + 1, kind: 'sentence' });
        break; // the fence is handled as its own clause
      }
      if (hasWords(text, from, i)) cuts.push({ at: i + 1, kind: 'sentence' });
      continue;
    }
    if (SENTENCE_MARKS.includes(ch) || CLAUSE_MARKS.includes(ch)) {
      let j = i + 1;
      while (j < text.length && (SENTENCE_MARKS.includes(text[j]!) || CLOSERS.includes(text[j]!))) j++;
      const next = text[j];
      if (next === undefined && !final) break; // "3." may become "3.14": wait
      if (next !== undefined && !/\s/.test(next)) {
        i = j - 1;
        continue;
      }
      const sentence = SENTENCE_MARKS.includes(ch) && !isAbbreviation(text, i);
      if (sentence || CLAUSE_MARKS.includes(ch)) cuts.push({ at: j, kind: sentence ? 'sentence' : 'clause' });
      i = j - 1;
      continue;
    }
    if (/\s/.test(ch) && i > from && !/\s/.test(text[i - 1]!)) cuts.push({ at: i, kind: 'space' });
  }
  return cuts;
}

/** True when the period at `dot` belongs to an abbreviation, an initial or a list number. */
function isAbbreviation(text: string, dot: number): boolean {
  if (text[dot] !== '.' || text[dot + 1] === '.') return false;
  let start = dot;
  while (start > 0 && /[\p{L}\p{N}.]/u.test(text[start - 1]!)) start--;
  const word = text.slice(start, dot);
  if (ABBREVIATIONS.has(word.toLowerCase())) return true;
  if (/^\p{Lu}$/u.test(word)) return true; // an initial: "J. R. R. Tolkien"
  // "1. First item" at the start of a line is a list marker, not a sentence.
  return /^\d+$/.test(word) && atLineStart(text, start);
}

function atLineStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
  return i < 0 || text[i] === '\n';
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && /\s/.test(text[at]!)) at++;
  return at;
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return end;
}

function hasWords(text: string, from: number, to: number): boolean {
  return /[\p{L}\p{N}]/u.test(text.slice(from, to));
}

function countWords(text: string, from: number, to: number): number {
  return text.slice(from, to).split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

// ── cleaning ──────────────────────────────────────────────────────────────────────────

const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u200d\ufe0f\u20e3]/gu;
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>()[\]]+/gi;

/**
 * Turns markdown-ish chat text into words for a voice: code blocks are skipped (the
 * caption still shows them), inline code keeps its text, links keep their label, bare
 * URLs become their host name ("example.com"), emoji and markup characters disappear,
 * table cells are read as a list.
 *
 * @example
 * toSpeakable('**Note:** see [the docs](https://x.dev/a) 🚀'); // → 'Note: see the docs'
 */
export function toSpeakable(text: string): string {
  let out = text;
  out = out.replace(/```[\s\S]*?(?:```|$)/g, ' '); // fenced code blocks (closed or not)
  out = out.replace(/`([^`\n]*)`/g, '$1'); // inline code
  out = out.replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1'); // images → alt text
  out = out.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1'); // links → label
  out = out.replace(/<\/?[a-z][^>]*>/gi, ' '); // html tags
  out = out.replace(URL_PATTERN, (url) => hostOf(url));
  out = out.replace(/^\s{0,3}#{1,6}\s+/gm, ''); // headings
  out = out.replace(/^\s{0,3}>\s?/gm, ''); // block quotes
  out = out.replace(/^\s*(?:[-*+]|\d+[.)])\s+/gm, ''); // list markers
  out = out.replace(/^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$/gm, ''); // table rules
  out = out.replace(/^\s*(?:[-*_]\s*){3,}$/gm, ''); // horizontal rules
  out = out.replace(/^[ \t]*\|(.*)\|[ \t]*$/gm, (_, cells: string) =>
    cells
      .split('|')
      .map((cell) => cell.trim())
      .filter(Boolean)
      .join(', '),
  ); // table rows → "cell, cell"
  out = out.replace(/(\*{1,3}|_{2,3}|~~)(?=\S)([\s\S]*?\S)\1/g, '$2'); // emphasis, strike
  out = out.replace(/(^|\s)_(?=\S)([^_]*?\S)_(?=\s|$|[.,;:!?])/g, '$1$2'); // _emphasis_
  out = out.replace(EMOJI, '');
  // Symbols outside ASCII (☃ ∰ ⺁ …): espeak would spell out their code points.
  out = out.replace(/[\p{So}\p{Co}\p{Cn}]|(?![\u0000-\u007f])\p{Sm}/gu, ' ');
  out = out.replace(/[*#~^|<>{}\\]/g, ' '); // stray markup characters
  out = out.replace(/\s+/g, ' ').trim();
  // Nothing but punctuation left (e.g. a clause that was only an emoji and a period).
  return /[\p{L}\p{N}]/u.test(out) ? out : '';
}

function hostOf(url: string): string {
  try {
    const parsed = new URL(/^www\./i.test(url) ? `https://${url}` : url);
    return parsed.hostname.replace(/^www\./, '');
  } catch {
    return '';
  }
}
