import { describe, expect, it } from 'vitest';
import type { FrameProblem } from './mllp-framing.ts';
import { MllpDeframer, frameMllp } from './mllp-framing.ts';

function deframe(chunks: Buffer[], maxFrameBytes = 1024) {
  const frames: string[] = [];
  const problems: FrameProblem['kind'][] = [];
  let garbage = 0;
  const deframer = new MllpDeframer(maxFrameBytes, {
    frame: (p) => frames.push(p.toString('latin1')),
    problem: (p) => problems.push(p.kind),
    garbage: (n) => {
      garbage += n;
    },
  });
  for (const chunk of chunks) deframer.push(chunk);
  return { frames, problems, garbage, midFrame: deframer.midFrame };
}

describe('MllpDeframer', () => {
  it('reassembles frames split at every byte, including between FS and CR', () => {
    const stream = Buffer.concat([frameMllp('MSH|one'), frameMllp('MSH|two')]);
    const bytes = [...stream].map((b) => Buffer.of(b));
    expect(deframe(bytes)).toEqual({ frames: ['MSH|one', 'MSH|two'], problems: [], garbage: 0, midFrame: false });
  });

  it('skips and counts bytes outside frames', () => {
    expect(deframe([Buffer.from('noise'), frameMllp('MSH|x'), Buffer.from('\r\n')])).toMatchObject({ frames: ['MSH|x'], garbage: 7 });
  });

  it('reports FS without CR and a start block inside a frame as broken, then reads on', () => {
    const r = deframe([Buffer.from('\x0bMSH|a\x1cX'), Buffer.from('\x0bMSH|b\x0bMSH|c\x1c\x0d')]);
    expect(r.frames).toEqual(['MSH|c']);
    expect(r.problems).toEqual(['broken', 'broken']);
  });

  it('reports an oversize frame once, skips to its end and reads the next', () => {
    const r = deframe([frameMllp('x'.repeat(3000)), frameMllp('MSH|small')], 1024);
    expect(r).toMatchObject({ frames: ['MSH|small'], problems: ['oversize'], midFrame: false });
  });

  it('knows when it is inside a frame (for the frame deadline)', () => {
    expect(deframe([Buffer.from('\x0bMSH|par')]).midFrame).toBe(true);
  });
});
