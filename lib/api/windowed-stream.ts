// placeholder until the window operator lands (helper-2 replaces this file)
export class WindowedStream<T> {
  reduce(_fn: (a: T, b: T) => T, _options: unknown): never { throw new Error('windows not yet available') }
  aggregate(_fn: unknown, _options: unknown): never { throw new Error('windows not yet available') }
  process(_fn: unknown, _options: unknown): never { throw new Error('windows not yet available') }
}
