import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { backoffDelay } from '../../util/backoff.js'
import type { RetrySettings } from '../base/retry-options.js'
import { nifiApiBase, type SiteToSiteClient, SiteToSiteError } from './site-to-site-client.js'

/** Where a {@link RemoteCluster} finds its port. */
export interface PortAddress {
  readonly urls: readonly string[]
  readonly direction: 'send' | 'receive'
  readonly portName: string | undefined
  readonly portId: string | undefined
  readonly peerRefreshMs: number
}

interface Peer {
  readonly url: string
  failures: number
  penalizedUntil: number
}

/**
 * The remote NiFi as the reader or writer sees it: the port id (a configured name resolved through
 * `/site-to-site`), the peers of the cluster (`/site-to-site/peers`, refreshed every `peerRefreshMs`),
 * taken round-robin, a failed peer skipped with the backoff of the retry settings until it answers
 * again. `call` runs one request against the next peer and retries on others; after `retry.maxRetries`
 * failed attempts in a row it fails with ConnectorError 'ERR_CONNECT' naming the URLs (never a
 * credential) and the last cause.
 *
 * Threading: single-threaded (the subtask's mailbox); concurrent calls share the peer list.
 *
 * @example
 * const cluster = new RemoteCluster(client, address, retry, processingTime, 'nifiSource')
 * const tx = await cluster.call((peer) => client.begin(peer, 'receive', cluster.portId))
 */
export class RemoteCluster {
  private peers: Peer[] = []
  private next = 0
  private refreshedAt = Number.NEGATIVE_INFINITY
  private refreshing: Promise<void> | undefined
  private resolvedPortId: string | undefined
  /** Requests that failed and were tried again elsewhere or later. */
  retries = 0

  constructor(
    private readonly client: SiteToSiteClient,
    private readonly address: PortAddress,
    private readonly retry: RetrySettings,
    private readonly processingTime: ProcessingTimeService,
    private readonly owner: string,
    private readonly random: () => number = Math.random,
  ) {
    this.resolvedPortId = address.portId
  }

  /** The port's id; set once {@link connect} resolved it. */
  get portId(): string {
    if (this.resolvedPortId === undefined) throw new Error(`${this.owner}: port not resolved yet`)
    return this.resolvedPortId
  }

  /** The peers' API base URLs, in the order they are taken. */
  get peerUrls(): string[] {
    return this.peers.map((p) => p.url)
  }

  /** Resolves the port and lists the peers, with the retry settings; rejects with ERR_CONNECT. */
  async connect(): Promise<void> {
    await this.withRetries(async () => {
      await this.refresh()
    }, this.address.urls.map(nifiApiBase))
  }

  /** Runs `request` against the next healthy peer; on failure penalizes it and tries again. */
  call<T>(request: (peer: string) => Promise<T>): Promise<T> {
    if (this.processingTime.now() - this.refreshedAt > this.address.peerRefreshMs && this.refreshing === undefined) {
      this.refreshing = this.refresh()
        .catch(() => undefined)
        .finally(() => {
          this.refreshing = undefined
        })
    }
    return this.withRetries(request)
  }

  /** Marks a peer as failed (a request outside `call` failed on it). */
  penalize(url: string): void {
    const peer = this.peers.find((p) => url.startsWith(p.url))
    if (peer === undefined) return
    peer.penalizedUntil = this.processingTime.now() + backoffDelay(peer.failures++, this.retry, this.random)
  }

  private async withRetries<T>(request: (peer: string) => Promise<T>, seeds?: string[]): Promise<T> {
    let lastError: unknown
    const attempts = this.retry.maxRetries === Infinity ? Infinity : this.retry.maxRetries + 1
    for (let attempt = 0; attempt < attempts; attempt++) {
      const peer = seeds !== undefined ? seeds[attempt % seeds.length]! : await this.healthyPeer()
      try {
        const result = await request(peer)
        const p = this.peers.find((x) => x.url === peer)
        if (p !== undefined) p.failures = 0
        return result
      } catch (error) {
        if (error instanceof ConnectorError && !error.retriable) throw error
        lastError = error
        if (seeds === undefined) this.penalize(peer)
        if (attempt + 1 < attempts) {
          this.retries++
          if (seeds !== undefined) await this.sleep(backoffDelay(attempt, this.retry, this.random))
        }
      }
    }
    const where = (seeds ?? this.peers.map((p) => p.url)).join(', ')
    throw new ConnectorError(
      'ERR_CONNECT',
      `${this.owner} ${where}: no answer after ${attempts} attempt${attempts === 1 ? '' : 's'} (maxRetries ${this.retry.maxRetries}): ${messageOf(lastError)}`,
      { cause: lastError, retriable: true },
    )
  }

  /** The next peer not penalized, round-robin; waits for the first one to come back when all are. */
  private async healthyPeer(): Promise<string> {
    const n = this.peers.length
    if (n === 0)
      throw new ConnectorError('ERR_CONNECT', `${this.owner}: the remote NiFi lists no peers`, { retriable: true })
    const now = this.processingTime.now()
    for (let i = 0; i < n; i++) {
      const peer = this.peers[(this.next + i) % n]!
      if (peer.penalizedUntil <= now) {
        this.next = (this.next + i + 1) % n
        return peer.url
      }
    }
    const soonest = this.peers.reduce((a, b) => (a.penalizedUntil <= b.penalizedUntil ? a : b))
    await this.sleep(soonest.penalizedUntil - now)
    this.next = (this.peers.indexOf(soonest) + 1) % n
    return soonest.url
  }

  private async refresh(): Promise<void> {
    const seeds = [...new Set([...this.address.urls.map(nifiApiBase), ...this.peers.map((p) => p.url)])]
    let lastError: unknown
    for (const seed of seeds) {
      try {
        if (this.address.portName !== undefined || this.resolvedPortId === undefined) {
          const controller = await this.client.controller(seed)
          const ports = this.address.direction === 'receive' ? controller.outputPorts : controller.inputPorts
          const kind = this.address.direction === 'receive' ? 'output' : 'input'
          const port = ports.find((p) =>
            this.address.portName !== undefined ? p.name === this.address.portName : p.id === this.address.portId,
          )
          if (port === undefined)
            throw new ConnectorError(
              'ERR_NO_PORT',
              `${this.owner}: the remote NiFi has no ${kind} port ${this.address.portName ?? this.address.portId} (it has ${ports.map((p) => p.name).join(', ') || 'none'})`,
              { retriable: false },
            )
          this.resolvedPortId = port.id
        }
        const listed = await this.client.peers(seed)
        const old = new Map(this.peers.map((p) => [p.url, p]))
        this.peers = (listed.length > 0 ? listed.map((p) => p.url) : [seed]).map(
          (url) => old.get(url) ?? { url, failures: 0, penalizedUntil: 0 },
        )
        this.refreshedAt = this.processingTime.now()
        return
      } catch (error) {
        if (error instanceof ConnectorError && !error.retriable && !(error instanceof SiteToSiteError)) throw error
        if (error instanceof SiteToSiteError && !error.retriable) throw error
        lastError = error
      }
    }
    throw lastError
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) =>
      this.processingTime.scheduleAt(this.processingTime.now() + Math.max(0, ms), resolve),
    )
  }
}
