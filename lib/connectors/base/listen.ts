import type { AddressInfo, Server } from 'node:net'
import { ConnectorError } from '../../errors.js'
import type { Logger } from '../../logging.js'

/**
 * Starts `server` listening on host:port and resolves with the bound address (logged as
 * `<what> listening`); rejects with a retriable ConnectorError 'ERR_LISTEN' naming `owner` and the
 * address (a port in use, an address not on this host).
 *
 * @example
 * const address = await listen(server, 'http-server', '127.0.0.1', 0, log, 'http source')
 */
export function listen(
  server: Server,
  owner: string,
  host: string,
  port: number,
  log: Logger | undefined,
  what: string,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void =>
      reject(
        new ConnectorError('ERR_LISTEN', `${owner}: cannot listen on ${host}:${port}`, {
          cause: error,
          retriable: true,
        }),
      )
    server.once('error', failed)
    server.listen(port, host, () => {
      server.off('error', failed)
      const address = server.address() as AddressInfo
      log?.info(`${what} listening`, { address: address.address, port: address.port })
      resolve(address)
    })
  })
}
