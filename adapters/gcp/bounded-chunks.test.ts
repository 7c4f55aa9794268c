import { describe, expect, it } from 'vitest';
import { boundedChunks } from './bounded-chunks.ts';

describe('boundedChunks', () => {
  it('cuts by count and by bytes, keeps order, and lets an oversized item travel alone', () => {
    const sizes = [1, 1, 1, 1, 1, 10, 1, 3, 3];
    const chunks = [...boundedChunks(sizes.map((size, i) => ({ i, size })), { maxCount: 3, maxBytes: 5 }, (x) => x.size)];
    expect(chunks.map((c) => c.map((x) => x.i))).toEqual([[0, 1, 2], [3, 4], [5], [6, 7], [8]]);
    expect([...boundedChunks([], { maxCount: 3, maxBytes: 5 }, () => 1)]).toEqual([]);
  });
});
