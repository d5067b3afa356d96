import { describe, expect, it } from 'vitest';
import { ClauseSplitter, DEFAULT_CLAUSE_OPTIONS, splitClauses, toSpeakable, type Clause } from './speakable-text.ts';

const texts = (clauses: readonly Clause[]) => clauses.map((c) => c.text);

describe('splitClauses', () => {
  it('keeps the first clause short (up to the first comma) and later ones sentence-sized', () => {
    const reply = 'Hello there, how are you today? I am fine. Thanks for asking!';
    expect(texts(splitClauses(reply))).toEqual(['Hello there,', 'how are you today?', 'I am fine.', 'Thanks for asking!']);
  });

  it('cuts the first clause after a few words when no mark comes early', () => {
    const clauses = splitClauses('The quick brown fox jumps over the lazy dog and keeps running.');
    expect(clauses[0]!.text).toBe('The quick brown fox');
    expect(clauses[0]!.text.split(' ')).toHaveLength(DEFAULT_CLAUSE_OPTIONS.firstMaxWords);
  });

  it('ends the first clause at a short first sentence', () => {
    expect(texts(splitClauses('Sure. Here it is.'))).toEqual(['Sure.', 'Here it is.']);
  });

  it('does not end the first clause at a comma after a single word', () => {
    expect(splitClauses('Well, I think that works fine today.')[0]!.text).toBe('Well, I think that');
  });

  it('keeps offsets into the raw text for every clause', () => {
    const reply = '  **Hi** there, friend.\n\n- one item\n- two items';
    for (const clause of splitClauses(reply)) {
      expect(reply.slice(clause.start, clause.end)).toBe(clause.text);
    }
  });

  it('never lets a clause grow past the ramp or the hard cap', () => {
    const long = `Intro words here, then ${'a very long sentence without any punctuation '.repeat(30)}end.`;
    const clauses = splitClauses(long);
    let before = 0;
    for (const clause of clauses) {
      if (clause.index > 0) {
        const limit = Math.max(DEFAULT_CLAUSE_OPTIONS.minChars, Math.min(DEFAULT_CLAUSE_OPTIONS.maxChars, 2 * before));
        expect(clause.text.length).toBeLessThanOrEqual(limit);
      }
      before += clause.text.length;
    }
    expect(Math.max(...clauses.map((c) => c.text.length))).toBeLessThanOrEqual(DEFAULT_CLAUSE_OPTIONS.maxChars);
    expect(clauses.map((c) => c.text).join(' ')).toBe(long);
  });

  it('splits an over-long sentence at a comma rather than mid-phrase', () => {
    const sentence =
      'Okay, so the first thing you will want to do, before anything else, is to check that the cable is plugged in, that the light is on, and that nothing is blocking the vent.';
    const clauses = splitClauses(sentence);
    expect(clauses.length).toBeGreaterThan(2);
    // After the short first clause, every cut falls on a comma.
    for (const clause of clauses.slice(1, -1)) expect(clause.text).toMatch(/,$/);
  });

  it('hard-cuts a run with no spaces at the cap', () => {
    const blob = 'x'.repeat(1000);
    const clauses = splitClauses(`Look at this: ${blob}`);
    expect(Math.max(...clauses.map((c) => c.text.length))).toBeLessThanOrEqual(DEFAULT_CLAUSE_OPTIONS.maxChars);
    expect(clauses.map((c) => c.text).join('')).toBe(`Look at this:${blob}`);
  });

  it('does not end sentences at abbreviations, initials, decimals or list numbers', () => {
    const reply = 'Ask Dr. Smith, e.g. on Monday. It costs 3.50 dollars. J. R. R. Tolkien wrote it.\n1. First\n2. Second';
    expect(texts(splitClauses(reply))).toEqual([
      'Ask Dr. Smith,',
      'e.g. on Monday.',
      'It costs 3.50 dollars.',
      'J. R. R. Tolkien wrote it.',
      '1. First',
      '2. Second',
    ]);
  });

  it('keeps a fenced code block whole, with nothing to speak', () => {
    const reply = 'Run this:\n```js\nconsole.log("a. b. c.");\nlet x = 1;\n```\nThen reload the page.';
    const clauses = splitClauses(reply);
    expect(texts(clauses)).toEqual(['Run this:', '```js\nconsole.log("a. b. c.");\nlet x = 1;\n```', 'Then reload the page.']);
    expect(clauses[1]!.speech).toBe('');
  });
});

describe('ClauseSplitter (streaming)', () => {
  const reply =
    'Hello there, how are you today? I hope the weather is nice where you are. Let me know, and I will help.';

  it('gives the same clauses whether the text comes at once or token by token', () => {
    const whole = texts(splitClauses(reply));
    const splitter = new ClauseSplitter();
    const streamed: Clause[] = [];
    for (const token of reply.match(/\S+\s*|\s+/g)!) streamed.push(...splitter.push(token));
    streamed.push(...splitter.finish());
    expect(texts(streamed)).toEqual(whole);
    expect(streamed.map((c) => c.index)).toEqual(whole.map((_, i) => i));
  });

  it('emits the first clause as soon as its comma arrives, and waits at an ambiguous period', () => {
    const splitter = new ClauseSplitter();
    expect(splitter.push('Hello there')).toEqual([]);
    expect(texts(splitter.push(', how'))).toEqual(['Hello there,']);
    expect(splitter.push(' much is 3.')).toEqual([]); // "3." may be "3.14"
    expect(splitter.push('14')).toEqual([]);
    expect(texts(splitter.push('? Fine'))).toEqual(['how much is 3.14?']);
    expect(texts(splitter.finish())).toEqual(['Fine']);
    expect(splitter.finish()).toEqual([]);
  });

  it('waits for the end of an open code fence', () => {
    const splitter = new ClauseSplitter();
    expect(texts(splitter.push('Code:\n```\nfoo. bar. '))).toEqual(['Code:']);
    expect(splitter.push('baz.\n')).toEqual([]);
    expect(texts(splitter.push('```\nDone. '))).toEqual(['```\nfoo. bar. baz.\n```', 'Done.']);
  });

  it('refuses pushes after finish()', () => {
    const splitter = new ClauseSplitter();
    splitter.finish();
    expect(() => splitter.push('late')).toThrow(/after finish/);
  });
});

describe('toSpeakable', () => {
  const cases: [string, string][] = [
    ['**Bold** and *italic* and __strong__ and _em_ text', 'Bold and italic and strong and em text'],
    ['# Heading\nBody text', 'Heading Body text'],
    ['- first item\n* second item\n3. third item', 'first item second item third item'],
    ['> quoted words', 'quoted words'],
    ['See [the docs](https://example.com/docs?a=1) now', 'See the docs now'],
    ['Go to https://www.example.com/path/to/page?x=1 today', 'Go to example.com today'],
    ['Visit www.wikipedia.org for more', 'Visit wikipedia.org for more'],
    ['Use `npm install` first', 'Use npm install first'],
    ['Before\n```python\nprint("hi")\n```\nAfter', 'Before After'],
    ['Great job 🎉🚀! 👍🏽 Thanks ❤️', 'Great job ! Thanks'],
    ['Flags 🇫🇷 and families 👨‍👩‍👧 too', 'Flags and families too'],
    ['| Name | Age |\n|------|-----|\n| Ann | 31 |', 'Name, Age Ann, 31'],
    ['A <b>bold</b> move', 'A bold move'],
    ['~~old~~ new', 'old new'],
    ['Line one\n\n---\n\nLine two', 'Line one Line two'],
    ['café naïve résumé', 'café naïve résumé'],
    ['Snow ☃ and ∰ and ⺁ but 2 + 2 = 4', 'Snow and and but 2 + 2 = 4'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      expect(toSpeakable(input)).toBe(expected);
    });
  }

  it('returns nothing for text with nothing to say', () => {
    expect(toSpeakable('🎉🎉 !')).toBe('');
    expect(toSpeakable('```\ncode only\n```')).toBe('');
    expect(toSpeakable('   ')).toBe('');
  });
});
