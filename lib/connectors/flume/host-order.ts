import { backoffDelay } from '../../util/backoff.js'
import type { FlumeSinkSettings } from './options.js'

/**
 * The order in which a batch tries the hosts, as Flume's RpcClient kinds choose it:
 *
 * - `default`: the one host;
 * - `failover`: every host once, starting from the current one; the current host is kept until it
 *   fails, then the next in the configured order takes over (wrapping around);
 * - `load-balance`: every host once, starting from the next one in turn (`round-robin`) or in a fresh
 *   random order (`random`). With `hostBackoff`, a host that failed is tried last until its delay
 *   (doubling per consecutive failure, up to `maxDelayMs`) has passed; a success clears it.
 *
 * Threading: one batch at a time; `now` and `random` are injected for tests.
 *
 * @example
 * const order = new HostOrder(settings, Date.now)
 * for (const i of order.next()) { try { await send(i); order.succeeded(i); break } catch { order.failed(i) } }
 */
export class HostOrder {
  private current = 0
  private readonly failures: number[]
  private readonly skipUntil: number[]

  constructor(
    private readonly settings: Pick<FlumeSinkSettings, 'hosts' | 'clientType' | 'selector' | 'hostBackoff'>,
    private readonly now: () => number,
    private readonly random: () => number = Math.random,
  ) {
    this.failures = settings.hosts.map(() => 0)
    this.skipUntil = settings.hosts.map(() => 0)
  }

  /** The indexes of the hosts to try for the next batch, each once, in order. */
  next(): number[] {
    const n = this.settings.hosts.length
    const rotated = (start: number): number[] => Array.from({ length: n }, (_, i) => (start + i) % n)
    if (this.settings.clientType !== 'load-balance') return rotated(this.current)
    let order: number[]
    if (this.settings.selector === 'random') {
      order = rotated(0)
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1))
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
    } else {
      order = rotated(this.current)
      this.current = (this.current + 1) % n
    }
    if (this.settings.hostBackoff === false) return order
    const now = this.now()
    return [...order.filter((i) => this.skipUntil[i]! <= now), ...order.filter((i) => this.skipUntil[i]! > now)]
  }

  /** Whether host `i` is being skipped (load-balance with backoff). */
  backedOff(i: number): boolean {
    return this.skipUntil[i]! > this.now()
  }

  /** Host `i` took a batch. */
  succeeded(i: number): void {
    this.failures[i] = 0
    this.skipUntil[i] = 0
  }

  /** Host `i` did not take a batch. */
  failed(i: number): void {
    const attempt = this.failures[i]!++
    if (this.settings.clientType === 'failover' && i === this.current)
      this.current = (i + 1) % this.settings.hosts.length
    const backoff = this.settings.hostBackoff
    if (this.settings.clientType === 'load-balance' && backoff !== false)
      this.skipUntil[i] = this.now() + backoffDelay(attempt, { ...backoff, multiplier: 2, jitter: 0 })
  }
}
