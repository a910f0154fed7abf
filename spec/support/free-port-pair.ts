import { type AddressInfo, createServer } from 'node:net'

/**
 * Two consecutive free ports on loopback (probed by listening on both), for a port range `{ from, to: from + 1 }`.
 *
 * @example
 * const from = await freePortPair()
 * new TcpServerSource({ port: { from, to: from + 1 } })
 */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const first = (probe.address() as AddressInfo).port
    const second = createServer()
    const ok = await new Promise<boolean>((resolve) => {
      second.once('error', () => resolve(false))
      second.listen(first + 1, '127.0.0.1', () => resolve(true))
    })
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    if (ok) await new Promise<void>((resolve) => second.close(() => resolve()))
    if (ok && first < 65_535) return first
    if (attempt > 20) throw new Error('no two consecutive free ports')
  }
}
