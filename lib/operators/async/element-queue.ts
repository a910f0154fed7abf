import type { AsyncRequest } from './async-request.js'

/** Where a queue emits what is due, in the order it is due. */
export interface QueueEmitter<R> {
  record(request: R): void
  watermark(watermark: number): void
}

/**
 * The records of an async operator between arrival and emission, and the watermarks between them
 * (Flink's StreamElementQueue). Capacity is the operator's business; the queue only orders.
 */
export interface ElementQueue<R> {
  /** Records held (watermarks not counted). */
  readonly size: number
  add(request: R): void
  /** Queues a watermark behind the held records; false when none is held and it can go out now. */
  addWatermark(watermark: number): boolean
  /** `request` has finished (its status says so). */
  complete(request: R): void
  /** Emits everything that is due and removes it. */
  drain(emitter: QueueEmitter<R>): void
  /** The held records in arrival order, for a checkpoint. */
  requests(): Iterable<R>
  clear(): void
}

/** A watermark waiting in a queue; consecutive ones merge into the newest. */
class QueuedWatermark {
  constructor(public value: number) {}
}

type Request = AsyncRequest<unknown, unknown>

/**
 * Emits in arrival order: finished records wait for every record before them, and watermarks keep
 * their place (Flink's OrderedStreamElementQueue).
 *
 * @example
 * const q = new OrderedQueue(); q.add(a); q.add(b); b finishes → q.drain(e) emits nothing; a finishes → a, b
 */
export class OrderedQueue<R extends Request> implements ElementQueue<R> {
  private elements: (R | QueuedWatermark | undefined)[] = []
  private head = 0
  size = 0

  add(request: R): void {
    this.elements.push(request)
    this.size++
  }

  addWatermark(watermark: number): boolean {
    if (this.head === this.elements.length) return false
    const last = this.elements[this.elements.length - 1]
    if (last instanceof QueuedWatermark) last.value = watermark
    else this.elements.push(new QueuedWatermark(watermark))
    return true
  }

  complete(): void {}

  drain(emitter: QueueEmitter<R>): void {
    const elements = this.elements
    while (this.head < elements.length) {
      const element = elements[this.head]!
      if (element instanceof QueuedWatermark) {
        elements[this.head++] = undefined
        emitter.watermark(element.value)
        continue
      }
      if (!element.done) break
      elements[this.head++] = undefined
      this.size--
      emitter.record(element)
    }
    if (this.head === elements.length) {
      elements.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= elements.length) {
      this.elements = elements.slice(this.head)
      this.head = 0
    }
  }

  *requests(): Iterable<R> {
    for (let i = this.head; i < this.elements.length; i++) {
      const element = this.elements[i]
      if (element !== undefined && !(element instanceof QueuedWatermark)) yield element
    }
  }

  clear(): void {
    this.elements = []
    this.head = 0
    this.size = 0
  }
}

/** The records between two watermarks: those still running, and those finished but not yet emitted. */
class Segment<R> {
  running = 0
  finished: R[] = []
  /** The watermark that closes the segment; undefined while it is the open, last one. */
  watermark: number | undefined = undefined
}

/**
 * Emits records as they finish, but never across a watermark: a record goes out only once every
 * segment before its own has gone out, and a watermark only after every record before it (Flink's
 * UnorderedStreamElementQueue). Records of one segment may come out in any order.
 *
 * @example
 * q.add(a); q.add(b); q.addWatermark(10); q.add(c) // c finishes first: held until a, b and watermark 10 are out
 */
export class UnorderedQueue<R extends Request> implements ElementQueue<R> {
  private segments: (Segment<R> | undefined)[] = []
  private first = 0
  /** Held records in arrival order (a Set keeps insertion order), for checkpoints. */
  private readonly held = new Set<R>()

  get size(): number {
    return this.held.size
  }

  add(request: R): void {
    let last = this.segments[this.segments.length - 1]
    if (last === undefined || last.watermark !== undefined) {
      last = new Segment<R>()
      this.segments.push(last)
    }
    last.running++
    request.segment = last
    this.held.add(request)
  }

  addWatermark(watermark: number): boolean {
    if (this.held.size === 0) return false
    this.segments[this.segments.length - 1]!.watermark = watermark
    return true
  }

  complete(request: R): void {
    const segment = request.segment as Segment<R>
    segment.running--
    segment.finished.push(request)
  }

  drain(emitter: QueueEmitter<R>): void {
    while (this.first < this.segments.length) {
      const segment = this.segments[this.first]!
      if (segment.finished.length > 0) {
        const finished = segment.finished
        segment.finished = []
        for (const request of finished) {
          this.held.delete(request)
          request.segment = undefined
          emitter.record(request)
        }
        continue
      }
      if (segment.running > 0) break
      this.segments[this.first++] = undefined
      if (segment.watermark !== undefined) emitter.watermark(segment.watermark)
    }
    if (this.first === this.segments.length) {
      this.segments.length = 0
      this.first = 0
    } else if (this.first >= 1024 && this.first * 2 >= this.segments.length) {
      this.segments = this.segments.slice(this.first)
      this.first = 0
    }
  }

  requests(): Iterable<R> {
    return this.held
  }

  clear(): void {
    this.segments = []
    this.first = 0
    this.held.clear()
  }
}
