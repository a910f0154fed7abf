import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { EnvironmentConfig } from '../../lib/api/environment-config.js'

/**
 * Runs operators over `input` in embedded mode: a plain Observable's pipe, inline, no actors.
 *
 * @example
 * await runEmbedded([1, 2], map((x: number) => x + 1)) // [2, 3]
 */
export function runEmbedded<R>(input: unknown[], ...ops: OperatorFunction<any, any>[]): Promise<R[]> {
  return lastValueFrom((from(input).pipe as (...o: OperatorFunction<any, any>[]) => any)(...ops, toArray()))
}

/**
 * Runs the same operators as a job on the engine (actors, batches, credits) and collects the output.
 *
 * @example
 * await runEngine([1, 2], { parallelism: 2 }, map((x: number) => x + 1))
 */
export function runEngine<R>(
  input: unknown[],
  config: EnvironmentConfig,
  ...ops: OperatorFunction<any, any>[]
): Promise<R[]> {
  const env = StreamEnvironment.create({ logLevel: 'silent', ...config })
  return env
    .fromCollection(input)
    .pipe(...ops)
    .executeAndCollect() as Promise<R[]>
}

/** Sorts a copy for order-insensitive comparison of parallel output. */
export function sorted<T>(values: T[]): T[] {
  return [...values].sort((a, b) =>
    JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0,
  )
}
