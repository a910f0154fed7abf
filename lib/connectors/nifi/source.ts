import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { type NiFiRecord, type NiFiSourceOptions, type NiFiSourceSettings, nifiSourceSettings } from './options.js'
import { NiFiReader, type NiFiSourceSplit } from './reader.js'

/**
 * Reads an output port of a remote NiFi (HTTP site-to-site). Exactly-once: a transaction is confirmed
 * to NiFi when the checkpoint covering its FlowFiles completes, and redeliveries are dropped by uuid,
 * so the job needs checkpointing (without it the source holds `maxOpenTransactions` transactions and
 * waits; the job warns). Unbounded, unless `endWhenIdleMs` ends it once the port stays empty that long;
 * parallel subtasks each pull their own transactions.
 *
 * @example
 * env.fromSource(new NiFiSource({ urls: 'http://127.0.0.1:8080/nifi', portName: 'to-sluice' }), { uid: 'nifi' })
 */
export class NiFiSource implements Source<NiFiRecord, NiFiSourceSplit> {
  readonly name = 'nifi'
  readonly bounded: boolean
  /** NiFi hands a redelivery to any subtask: every restored reader must know every remembered uuid. */
  readonly restoredSplits = 'union'
  readonly commitsOnCheckpoint = true
  readonly acknowledgesOnCheckpoint = true
  readonly settings: NiFiSourceSettings

  constructor(options: NiFiSourceOptions) {
    this.settings = nifiSourceSettings(options)
    this.bounded = this.settings.endWhenIdleMs !== undefined
  }

  createReader(context: SourceReaderContext, restored?: NiFiSourceSplit[]): NiFiReader {
    return new NiFiReader(this.settings, context, restored)
  }
}
