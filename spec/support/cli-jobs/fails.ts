import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { type StreamEnvironment, map } from '../../../lib/index.js'

/** A job file for `sluice run` whose job fails on its third record. */
export function job(env: StreamEnvironment): void {
  env
    .fromIterable([1, 2, 3, 4])
    .pipe(
      map((n: number) => {
        if (n === 3) throw new Error('three is not allowed')
        return n
      }),
    )
    .sinkTo(new CallbackSink(() => {}))
}
