import { describe, expect, it } from 'vitest';
import { echoesAgent } from './transcript-filter.ts';

describe('echoesAgent', () => {
  const agent = 'The museum has three floors. The first floor shows old maps of the city and the harbour,';

  it('recognizes the agent\'s own recent words, even misheard in part', () => {
    expect(echoesAgent('old maps of the city', agent)).toBe(true);
    expect(echoesAgent('The first floor shows old mops of the city.', agent)).toBe(true);
    expect(echoesAgent('three floors', agent)).toBe(true);
  });

  it('does not take the visitor talking over the agent for echo', () => {
    expect(echoesAgent('Your power is sufficient, I said.', agent)).toBe(false);
    expect(echoesAgent('wait, which floor has the maps?', agent)).toBe(false);
    expect(echoesAgent('stop', agent)).toBe(false);
    // A short reply that shares one word with the agent is still the visitor.
    expect(echoesAgent('no, the second', agent)).toBe(false);
    expect(echoesAgent('', agent)).toBe(false);
    expect(echoesAgent('the city', '')).toBe(false);
  });
});
