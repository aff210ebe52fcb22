/** A `Storage` shared by the "tabs" of a test, like one origin's localStorage. */
export class MemoryStorage implements Storage {
  private values = new Map<string, string>();

  get length(): number {
    return this.values.size;
  }

  clear(): void {
    this.values.clear();
  }

  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  key(index: number): string | null {
    return [...this.values.keys()][index] ?? null;
  }

  removeItem(key: string): void {
    this.values.delete(key);
  }

  setItem(key: string, value: string): void {
    this.values.set(key, String(value));
  }
}

/** An in-process stand-in for the Web Locks API: callbacks under one name run one at a time. */
export class MemoryLocks {
  private tails = new Map<string, Promise<unknown>>();

  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const next = previous.then(callback, callback);
    this.tails.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }
}
