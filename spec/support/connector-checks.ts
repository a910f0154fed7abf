import { createServer } from 'node:net'

/**
 * A port on 127.0.0.1 that nothing listens on (bound once, then released): connecting to it is refused.
 *
 * @example
 * const brokers = [`127.0.0.1:${await closedPort()}`]
 */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * The message of the ConfigError `build` throws; 'accepted' when it throws none.
 *
 * @example
 * assert.match(configErrorMessage(() => kafkaSource({ groupID: 'g' } as never)), 'did you mean groupId?')
 */
export function configErrorMessage(build: () => unknown): string {
  try {
    build()
  } catch (e) {
    return (e as { code?: string }).code === 'ERR_CONFIG' ? (e as Error).message : `not a ConfigError: ${String(e)}`
  }
  return 'accepted'
}

/**
 * The error a reader's `start()` fails with (it must fail), after which the reader is closed.
 *
 * @example
 * const error = await startFailure(source.createReader(context)); assert.is(error.code, 'ERR_CONNECT')
 */
export async function startFailure(reader: {
  start(): void | Promise<void>
  close(): void | Promise<void>
}): Promise<Error & { code?: string }> {
  try {
    await reader.start()
  } catch (error) {
    return error as Error
  } finally {
    await reader.close()
  }
  throw new Error('start() should have failed')
}
