import type { ChannelModel } from 'amqplib'

const CLOSE_TIMEOUT_MS = 2000

/**
 * Closes an amqplib connection and swallows what a connection that is already gone throws. A broker
 * that does not answer connection.close within 2 s gets its socket destroyed, so closing never hangs.
 *
 * @example
 * await closeQuietly(model)
 */
export async function closeQuietly(model: ChannelModel): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)
  })
  try {
    const outcome = await Promise.race([model.close().catch(() => undefined), timedOut])
    if (outcome === 'timeout') (model as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Whether an amqplib error is the broker's 404 NOT_FOUND (a queue or exchange that does not exist).
 *
 * @example
 * await channel.checkQueue('nope').catch((e) => isNotFound(e)) // true
 */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 404
}
