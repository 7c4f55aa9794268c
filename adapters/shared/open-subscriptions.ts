import type { Subscription } from '../../core/ports/bus.ts';

/**
 * The subscriptions a bus adapter has open, so its `close()` can close whichever the callers have
 * not: `track` hands out the caller's handle, which forgets the subscription when closed.
 */
export interface OpenSubscriptions {
  track(subscription: Subscription): Subscription;
  /** Closes every subscription still open; one failing to close does not keep the others open. */
  closeAll(): Promise<void>;
}

export function createOpenSubscriptions(): OpenSubscriptions {
  const open = new Set<Subscription>();
  return {
    track(subscription) {
      open.add(subscription);
      return {
        async close() {
          open.delete(subscription);
          await subscription.close();
        },
      };
    },
    async closeAll() {
      const closing = [...open];
      open.clear();
      await Promise.allSettled(closing.map((s) => s.close()));
    },
  };
}
