// The progress of a pull or push: its blob transfers run side by side and report here; the RPC's generator
// yields what they reported, in order, until the whole transfer settles.
/** An unbounded queue of events between transfer tasks (pull's downloads, push's uploads) and the generator
 * that yields them to the caller. */
export class EventQueue<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }
  async *drainUntil(done: Promise<unknown>): AsyncGenerator<T> {
    let finished = false;
    void done.then(
      () => ((finished = true), this.wake?.()),
      () => ((finished = true), this.wake?.()),
    );
    for (;;) {
      while (this.items.length) yield this.items.shift()!;
      if (finished) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
