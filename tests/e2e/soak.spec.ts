/**
 * The soak benchmark's driver (tests/e2e/support/soak.ts; `npm run bench:soak` runs it for
 * 30 minutes) for 3 minutes in one page: spoken turns, barge-ins, an LLM 500, an LLM stall
 * and the microphone track ending. Only structural checks — nothing about timing or memory
 * size, which the benchmark reports.
 */
import { expect, test } from '@playwright/test';
import { ORIGIN } from './support/browser.ts';
import { LlmServer } from './support/llm-server.ts';
import { FAULT_CODES, runSoak } from './support/soak.ts';

const MINUTES = 3;
test.describe.configure({ timeout: (MINUTES + 4) * 60_000 });

test(`a ${MINUTES}-minute soak: every spoken turn is heard and answered, faults give their codes, no AudioContext or worker piles up`, async () => {
  const llm = new LlmServer();
  await llm.start();
  try {
    const run = await runSoak({ origin: ORIGIN, llm, durationMs: MINUTES * 60_000, log: (line) => console.log(line) });
    expect(run.turns.filter((t) => t.bargeIn).length).toBeGreaterThan(0);
    // No lost turn: each one transcribed and answered (an LLM fault's turn with the apology).
    const lost = run.turns.filter((t) => !t.heard || !t.answered).map((t) => ({ clip: t.clip, heard: t.heard, answered: t.answered }));
    expect(lost).toEqual([]);
    // Each fault gave its code, and nothing else went wrong.
    const injected = [...new Set(run.faults.map((f) => FAULT_CODES[f.fault]))].sort();
    expect(injected.length).toBeGreaterThanOrEqual(2);
    expect([...new Set(run.errors.map((e) => e.code))].sort()).toEqual(injected);
    // After warm-up, no more AudioContexts, workers or microphone tracks than at its end.
    const settled = run.samples.filter((s) => s.at >= run.warmUpEndsAt);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    const [first] = settled;
    for (const s of settled) {
      expect(s.audioContexts, `at ${s.at} ms`).toBeLessThanOrEqual(first!.audioContexts);
      expect(s.workers, `at ${s.at} ms`).toBeLessThanOrEqual(first!.workers);
      expect(s.liveTracks, `at ${s.at} ms`).toBeLessThanOrEqual(first!.liveTracks);
    }
  } finally {
    await llm.close();
  }
});
