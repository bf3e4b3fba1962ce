import { ChunkHit } from '../chunk.repository';
import { withinAnswerBudget } from './answer-budget';

const hit = (content: string): ChunkHit => ({ content, context: null, metadata: {}, title: null } as unknown as ChunkHit);

describe('withinAnswerBudget', () => {
  it('keeps the best hits while their text fits, and always the best one', () => {
    const hits = [hit('a'.repeat(400)), hit('b'.repeat(400)), hit('c'.repeat(400))];
    // Each costs 402 characters (content plus "{}").
    expect(withinAnswerBudget(hits, 900)).toEqual(hits.slice(0, 2));
    expect(withinAnswerBudget(hits, 10)).toEqual(hits.slice(0, 1));
    expect(withinAnswerBudget(hits, 10000)).toEqual(hits);
  });
});
