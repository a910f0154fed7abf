import type { AddressInfo } from 'node:net'

/** Where a server source listens. */
export interface ServerAddress {
  readonly host: string
  readonly port: number
  /** `<scheme>://host:port<path>`, what clients connect to. */
  readonly url: string
}

/**
 * The address a server source's reader bound, kept on the source so that it outlives the reader: the
 * application reads it (`address`, `listening()`), and a restarted reader binds the same port again
 * (`port`), which matters when the first bind asked for port 0.
 *
 * @example
 * const bound = new BoundAddress('http', '/')
 * bound.set(server.address() as AddressInfo)
 * const { url } = await bound.listening()
 */
export class BoundAddress {
  private current: ServerAddress | undefined
  private readonly waiting: Array<(address: ServerAddress) => void> = []

  constructor(
    private readonly scheme: string,
    private readonly path = '',
  ) {}

  /** The address, once a reader listened. */
  get address(): ServerAddress | undefined {
    return this.current
  }

  /** The port bound before, or undefined. */
  get port(): number | undefined {
    return this.current?.port
  }

  /** Resolves with the address once a reader listens. */
  listening(): Promise<ServerAddress> {
    if (this.current !== undefined) return Promise.resolve(this.current)
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  set(address: AddressInfo): void {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.current = {
      host: address.address,
      port: address.port,
      url: `${this.scheme}://${host}:${address.port}${this.path}`,
    }
    for (const resolve of this.waiting.splice(0)) resolve(this.current)
  }
}
