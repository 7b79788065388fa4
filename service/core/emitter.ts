import { EventEmitter } from 'node:events';

/**
 * An EventEmitter with typed events whose listeners cannot take the daemon down: a listener that
 * throws is reported through `onListenerError` and the remaining listeners still run.
 */
export class SafeEmitter<Events extends Record<string, unknown[]>> {
  private readonly inner = new EventEmitter();

  constructor(private readonly onListenerError: (e: unknown, event: string) => void = () => undefined) {
    this.inner.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): () => void {
    const wrapped = (...args: unknown[]): void => {
      try {
        listener(...(args as Events[K]));
      } catch (e) {
        this.onListenerError(e, event);
      }
    };
    this.inner.on(event, wrapped);
    return () => this.inner.off(event, wrapped);
  }

  emit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    this.inner.emit(event, ...args);
  }

  removeAllListeners(): void {
    this.inner.removeAllListeners();
  }
}
