import { describe, expect, it } from 'vitest';
import { createKeyedSerialQueue } from './keyed-serial-queue.ts';

/** A task whose end the test decides, recording when it started and ended. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    task: async () => {
      log.push(`${name} start`);
      await opened;
      log.push(`${name} end`);
    },
    open: () => open(),
  };
}

describe('keyed serial queue', () => {
  it('runs the tasks of one key one after the other, in order, while another key runs beside them', async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    const queue = createKeyedSerialQueue((e) => errors.push(e));
    const [a1, a2, b1] = [gate(log, 'a1'), gate(log, 'a2'), gate(log, 'b1')];
    queue.run('a', a1.task);
    queue.run('a', a2.task);
    queue.run('b', b1.task);
    await new Promise((r) => setImmediate(r));
    expect(log, 'a2 waits for a1; b1 does not').toEqual(['a1 start', 'b1 start']);
    a2.open();
    b1.open();
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a1 start', 'b1 start', 'b1 end']);
    a1.open();
    await queue.idle();
    expect(log).toEqual(['a1 start', 'b1 start', 'b1 end', 'a1 end', 'a2 start', 'a2 end']);
    expect(errors).toEqual([]);
  });

  it('reports a failed task and still runs the ones queued behind it', async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const queue = createKeyedSerialQueue((e) => errors.push(e));
    queue.run('p', async () => {
      throw new Error('store down');
    });
    queue.run('p', async () => {
      ran.push('next');
    });
    await queue.idle();
    expect(ran).toEqual(['next']);
    expect(errors).toMatchObject([{ message: 'store down' }]);
  });
});
