import type { AvroFlumeEvent } from './avro-protocol.js'

/**
 * Why a host did not take a batch: `connect` it could not be reached; `refused` it answered but did
 * not accept the batch (Avro status FAILED or UNKNOWN, HTTP 503: its channel is full); `timeout` no answer
 * in time; `lost` the connection closed while the batch was sent. `rejected`: the host says the batch
 * is malformed (HTTP 400), which sending again cannot mend.
 */
export type HostFailureKind = 'connect' | 'refused' | 'timeout' | 'lost' | 'rejected'

/**
 * A host did not take a batch; `kind` says why (the writer retries every kind but `rejected`).
 *
 * @example
 * throw new HostFailure('refused', '127.0.0.1:41414', 'answered FAILED')
 */
export class HostFailure extends Error {
  constructor(
    readonly kind: HostFailureKind,
    readonly address: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${address}: ${detail}`, options)
    this.name = 'HostFailure'
  }
}

/**
 * A client of one Flume agent's source: sends a batch and resolves when the agent committed it to its
 * channel, rejects with a {@link HostFailure} otherwise. It connects when first used and again after a
 * failure.
 *
 * @example
 * await client.appendBatch([{ headers: { id: '1' }, body: Buffer.from('hello') }])
 */
export interface FlumeHostClient {
  readonly address: string
  appendBatch(events: readonly AvroFlumeEvent[]): Promise<void>
  close(): void
}
