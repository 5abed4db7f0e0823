/** A small typed event emitter (the browser has no node:events). */
export type Listener<A extends unknown[]> = (...args: A) => void;

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, Set<Listener<unknown[]>>>();

  /** Adds a listener. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as unknown as Listener<unknown[]>);
    return this;
  }

  /** Adds a listener that runs once. */
  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrapped: Listener<E[K]> = (...args) => {
      this.off(event, wrapped);
      fn(...args);
    };
    return this.on(event, wrapped);
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    this.listeners.get(event)?.delete(fn as unknown as Listener<unknown[]>);
    return this;
  }

  /**
   * Calls the listeners of `event`. A listener that throws is reported (`reportError`, as the
   * browser does for event handlers) and the others still run.
   */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (err) {
        globalThis.reportError?.(err);
      }
    }
  }
}
