import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction } from '../api/validate-options.js'
import { DecodeError, messageOf } from '../errors.js'
import { StreamOperator } from '../runtime/stream-operator.js'

/**
 * Decodes raw records (lines, buffers, messages) into values. A record the decoder throws on goes to
 * the dead-letter output (`DEAD_LETTERS`) with the reason and the raw input, whatever the error
 * policy: bad input is expected, so it never fails the job and is never lost.
 *
 * @example
 * const orders = env.readTextFile('orders.jsonl').pipe(decode((line: string) => OrderSchema.parse(JSON.parse(line))))
 * orders.getSideOutput(DEAD_LETTERS).print('bad')
 */
export function decode<RAW, T>(decoder: (raw: RAW) => T, options: OperatorOptions = {}): EngineOperator<RAW, T> {
  requireFunction('decode', decoder)
  return engineOperator((input) =>
    requireStream(input, 'decode').transform('decode', () => new DecodeOperator(decoder), options),
  )
}

class DecodeOperator<RAW, T> extends StreamOperator<RAW, T> {
  constructor(private readonly decoder: (raw: RAW) => T) {
    super()
  }

  processRecord(raw: RAW, timestamp: number | undefined): void {
    let value: T
    try {
      value = this.decoder(raw)
    } catch (error) {
      const reason = `cannot decode: ${messageOf(error)}`
      this.sendToDeadLetters(raw, reason, new DecodeError(reason, raw, error))
      return
    }
    this.output.collect(value, timestamp)
  }
}
