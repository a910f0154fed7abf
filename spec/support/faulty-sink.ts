import type { Sink, SinkWriter, SinkWriterContext } from '../../lib/runtime/sink.js'
import { type FaultLog, InjectedFault } from './fault-injection.js'
import { sharedSlots } from './shared-flags.js'

/**
 * Wraps a connector's exactly-once sink to inject the sink faults of a plan around its writers, the
 * way {@link FaultyLedgerSink} does for the ledger: a writer's snapshot (its pre-commit) rejects at
 * the plan's `sink-snapshot-rejects` checkpoint, and the completion notice (the commit) of the first
 * checkpoint pre-committed at or after a `commit-fails` fault's pre-commit throws before the wrapped
 * writer commits — a failure between pre-commit and commit, which the restore must repair by
 * committing the restored transaction. Snapshots are counted over every writer of every attempt (in
 * memory every thread of the test shares: on the worker executor, over every worker too).
 *
 * @example
 * stream.sinkTo(new FaultySink(new NiFiSink({ … }), log), { uid: 'nifi' })
 */
export class FaultySink<T> implements Sink<T> {
  readonly name: string
  readonly guarantee: Sink<T>['guarantee']
  private readonly snapshots = sharedSlots(1)

  constructor(
    private readonly inner: Sink<T>,
    private readonly log: FaultLog,
  ) {
    this.name = `faulty ${inner.name}`
    this.guarantee = inner.guarantee
  }

  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): SinkWriter<T> {
    const writer = this.inner.createWriter(context, restored)
    let victim: number | undefined
    const faulty: SinkWriter<T> = {
      write: (value, timestamp) => writer.write(value, timestamp),
      close: () => writer.close(),
      snapshotState: async (checkpointId) => {
        const nth = Atomics.add(this.snapshots, 0, 1) + 1
        if (this.log.take('sink-snapshot-rejects', (f) => nth >= f.checkpoint) !== undefined)
          throw new InjectedFault(`sink pre-commit ${nth}`)
        const state = (await writer.snapshotState?.(checkpointId)) ?? []
        if (
          this.log.commitVictim === undefined &&
          this.log.plan.faults.some((f) => f.kind === 'commit-fails' && nth >= f.afterPreCommits)
        ) {
          this.log.commitVictim = `checkpoint ${checkpointId} of subtask ${context.subtask}`
          victim = checkpointId
        }
        return state
      },
      notifyCheckpointComplete: (checkpointId) => {
        if (victim !== undefined && checkpointId >= victim && this.log.take('commit-fails', () => true) !== undefined)
          throw new InjectedFault(`commit of pre-committed checkpoint ${victim}`)
        return writer.notifyCheckpointComplete?.(checkpointId)
      },
    }
    if (writer.writesWhileSnapshotting === true)
      (faulty as { writesWhileSnapshotting?: boolean }).writesWhileSnapshotting = true
    if (writer.ready !== undefined) faulty.ready = () => writer.ready!()
    if (writer.flush !== undefined) faulty.flush = (end) => writer.flush!(end)
    return faulty
  }
}
