import { describe, expect, it } from 'vitest';
import { createOpenSubscriptions } from './open-subscriptions.ts';

describe('createOpenSubscriptions', () => {
  it('closes on closeAll only what callers left open, and every one of them even when one fails', async () => {
    const closed: string[] = [];
    const subscription = (name: string, fails = false) => ({
      async close() {
        closed.push(name);
        if (fails) throw new Error(`${name} would not close`);
      },
    });
    const open = createOpenSubscriptions();
    const a = open.track(subscription('a'));
    open.track(subscription('b', true));
    open.track(subscription('c'));
    await a.close();
    await open.closeAll();
    expect(closed).toEqual(['a', 'b', 'c']);
    await open.closeAll();
    expect(closed).toEqual(['a', 'b', 'c']);
  });
});
