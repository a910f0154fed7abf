import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { type StreamEnvironment, map } from '../../../lib/index.js'

/** A job file for `sluice run`: a bounded count, finished in well under a second. */
export const name = 'count-to'

export function job(env: StreamEnvironment): void {
  env
    .fromIterable(function* () {
      for (let i = 0; i < 5_000; i++) yield i
    })
    .pipe(map((n: number) => n + 1))
    .sinkTo(new CallbackSink(() => {}))
}
