import type { AddressInfo, Server } from 'node:net'
import type { TlsOptions } from 'node:tls'
import { ConfigError } from '../../errors.js'
import type { Logger } from '../../logging.js'
import type { Source, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { DeadLetterChannel } from './dead-letter-channel.js'
import { listen } from './listen.js'
import { type AddressCallback, registerAddress } from './register-address.js'
import { BoundAddress, type ServerAddress } from './server-address.js'

/** A port (0: the system picks one), or a range of which subtask `i` listens on `from + i`. */
export type ServerPort = number | { readonly from: number; readonly to: number }

/**
 * Validates a `port` option: a whole number 0..65535, or `{ from, to }` with 1 ≤ from ≤ to ≤ 65535;
 * the ConfigError names `path`.
 *
 * @example
 * serverPort('tcpServerSource.port', { from: 9000, to: 9003 }) // { from: 9000, to: 9003 }
 */
export function serverPort(path: string, value: unknown): ServerPort {
  if (value === undefined) return 0
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65_535) return value
  const range = value as { from?: unknown; to?: unknown } | null
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65_535
  if (typeof range === 'object' && range !== null && whole(range.from) && whole(range.to)) {
    if (range.to < range.from) throw new ConfigError(`${path}.to`, range.to, `at least port.from (${range.from})`)
    const extra = Object.keys(range).filter((k) => k !== 'from' && k !== 'to')
    if (extra.length > 0) throw new ConfigError(`${path}.${extra[0]}`, '(unknown key)', 'only from and to')
    return { from: range.from, to: range.to }
  }
  throw new ConfigError(path, value, 'a port 0..65535, or { from, to } ports 1..65535')
}

/**
 * Validates a `tls` option: undefined, or an object of `node:tls` server options (key, cert, …); the
 * ConfigError names `path` and never shows the value (it holds a private key).
 *
 * @example
 * tlsOption('httpServerSource.tls', { key, cert }) // { key, cert }
 */
export function tlsOption(path: string, value: unknown): TlsOptions | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object'))
    throw new ConfigError(path, '(not shown)', 'an object of TLS options')
  return value as TlsOptions | undefined
}

/**
 * How many subtasks a port option allows: one per port of a range, else one.
 *
 * @example
 * subtasksOf({ from: 9000, to: 9003 }) // 4
 */
export function subtasksOf(port: ServerPort): number {
  return typeof port === 'number' ? 1 : port.to - port.from + 1
}

/** What a server source's reader gets of its source: counters, the listen step, dead letters. */
export interface ServerReaderHost<Stats> {
  /** The source's name (dead letters, log lines). */
  readonly name: string
  readonly subtask: number
  /** Counts since the source was built, across restarts and subtasks. */
  readonly stats: Stats
  readonly log: Logger | undefined
  readonly deadLetters: DeadLetterChannel
  /**
   * Listens on the subtask's port (the one it bound before, after a restart in the same process),
   * records the address on the source, and tells the callback URL when one is set.
   */
  listen(server: Server, what: string): Promise<ServerAddress>
  /** True once the reader closed (the callback stops retrying). */
  closed(): boolean
}

/** A server source's reader: it tells how many records wait in it (the `bufferedRecords` metric). */
export interface ServerSourceReader<T, Split> extends SourceReader<T, Split> {
  readonly bufferedRecords: number
}

/** What {@link ServerSourceBase} needs of a concrete source's settings. */
export interface ServerSourceSettings {
  readonly host: string
  readonly port: ServerPort
  readonly callback?: AddressCallback | undefined
}

/**
 * The shape every server source shares (the HTTP and TCP server sources): the job runs a server per
 * subtask, the bound addresses outlive the readers (the application reads `address`, `addresses`,
 * `listening()`; a restarted reader binds the same port again, which matters when the first bind asked
 * for port 0), a port range gives each subtask its own port, the address can be told to a callback URL
 * (Bahir's registration), and each reader's dead letters go to the job. A concrete source writes its
 * settings, its counters and `createServerReader`.
 *
 * @example
 * class EchoSource extends ServerSourceBase<string, never, { lines: number }, EchoReader> {
 *   readonly stats = { lines: 0 }
 *   constructor() { super('echo', 'tcp', '', { host: '127.0.0.1', port: 0 }) }
 *   protected createServerReader(context, host) { return new EchoReader(host) }
 * }
 */
export abstract class ServerSourceBase<T, Split, Stats, Reader extends ServerSourceReader<T, Split>>
  implements Source<T, Split>
{
  readonly bounded = false
  readonly maxParallelism: number
  /** Counts since the source was built, across restarts and subtasks. */
  abstract readonly stats: Stats
  private readonly bound: BoundAddress[] = []

  constructor(
    readonly name: string,
    private readonly scheme: string,
    private readonly path: string,
    private readonly server: ServerSourceSettings,
  ) {
    this.maxParallelism = subtasksOf(server.port)
  }

  /**
   * Where subtask 0's server listens, once its reader started (undefined before).
   *
   * @example
   * net.connect(source.address!.port, source.address!.host)
   */
  get address(): ServerAddress | undefined {
    return this.bound[0]?.address
  }

  /**
   * Every subtask's address by subtask index (a hole where a subtask has not listened yet).
   *
   * @example
   * source.addresses.map((a) => a?.port) // [9000, 9001]
   */
  get addresses(): ReadonlyArray<ServerAddress | undefined> {
    return this.bound.map((b) => b.address)
  }

  /**
   * Resolves with the address of `subtask` (default 0) once its server listens.
   *
   * @example
   * const { port } = await source.listening()
   */
  listening(subtask = 0): Promise<ServerAddress> {
    return this.boundOf(subtask).listening()
  }

  /**
   * The reader of one subtask; `restored` holds the splits given back from a checkpoint.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored: Split[] = []): Reader {
    let closed = false
    const bound = this.boundOf(context.subtask)
    const { host, port, callback } = this.server
    const readerHost: ServerReaderHost<Stats> = {
      name: this.name,
      subtask: context.subtask,
      stats: this.stats,
      log: context.logger,
      deadLetters: new DeadLetterChannel(this.name, context),
      closed: () => closed,
      listen: async (server, what) => {
        const wanted = bound.port ?? (typeof port === 'number' ? port : port.from + context.subtask)
        const info: AddressInfo = await listen(server, this.name, host, wanted, context.logger, what)
        server.once('close', () => {
          closed = true
        })
        bound.set(info)
        const address = bound.address!
        if (callback !== undefined)
          await registerAddress(callback, address, context.subtask, context.processingTime, () => closed)
        return address
      },
    }
    const reader = this.createServerReader(context, readerHost, restored)
    context.metrics?.gauge('listeningPort', () => bound.port ?? 0)
    context.metrics?.gauge('bufferedRecords', () => reader.bufferedRecords)
    return reader
  }

  /** Builds the reader of one subtask around its host. */
  protected abstract createServerReader(
    context: SourceReaderContext,
    host: ServerReaderHost<Stats>,
    restored: Split[],
  ): Reader

  private boundOf(subtask: number): BoundAddress {
    for (let i = this.bound.length; i <= subtask; i++) this.bound.push(new BoundAddress(this.scheme, this.path))
    return this.bound[subtask]!
  }
}
