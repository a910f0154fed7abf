import type { Channel, ChannelModel, Options } from 'amqplib'
import { optionalDependency } from '../../util/optional-dependency.js'
import type { RetrySettings } from '../base/retry-options.js'

/** amqplib, an optional peer dependency: the source and sink check for it when they are built. */
export const amqplib = await optionalDependency<typeof import('amqplib')>('amqplib')

const CLOSE_TIMEOUT_MS = 2000

/**
 * Opens one amqplib connection for `owner` with the connector's timeout, Nagle off (an ack or publish
 * must leave at once) and the connection's name in the broker's management tools.
 *
 * @example
 * const model = await connectAmqp('rabbitmqSource', settings)
 */
export function connectAmqp(
  owner: 'rabbitmqSource' | 'rabbitmqSink',
  settings: { readonly url: string | Options.Connect; readonly retry: RetrySettings; readonly connectionName: string },
): Promise<ChannelModel> {
  return amqplib.get(owner).connect(settings.url, {
    timeout: settings.retry.connectTimeoutMs,
    noDelay: true,
    clientProperties: { connection_name: settings.connectionName },
  })
}

/**
 * Closes an amqplib connection and swallows what a connection that is already gone throws. The channel
 * is closed first: amqplib interleaves the frames of its channels, so a connection.close sent right
 * after a basic.ack can overtake it, and the broker would requeue what was just acknowledged. A broker
 * that does not answer within 2 s gets its socket destroyed, so closing never hangs.
 *
 * @example
 * await closeQuietly(model, channel)
 */
export async function closeQuietly(model: ChannelModel, channel?: Channel): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)
  })
  const close = async (): Promise<void> => {
    if (channel !== undefined) await channel.close().catch(() => undefined)
    await model.close().catch(() => undefined)
  }
  try {
    const outcome = await Promise.race([close(), timedOut])
    if (outcome === 'timeout')
      (model as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
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
