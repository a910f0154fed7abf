import type { CheckpointAck } from '../checkpoint/checkpoint-coordinator.js'
import type { CheckpointStorage } from '../checkpoint/checkpoint-storage.js'
import type { CheckpointBarrier, OperatorSubtaskState, StateHandle } from '../checkpoint/checkpoint-types.js'
import { KeyedSnapshotWriter } from '../state/keyed-snapshot.js'
import { jsonSerializer } from '../state/serializers/json-serializer.js'
import type { InputGate } from './input-gate.js'
import type { ChannelElement } from './record-batch.js'
import type { OperatorChain } from './operator-chain.js'
import type { SourceReader } from './source.js'
import type { OperatorStateEntries } from './stream-operator.js'

/** How a subtask takes part in checkpoints. */
export interface CheckpointSettings {
  readonly mode: 'exactly-once' | 'at-least-once'
  /** Barriers overtake queued records, which are stored with the checkpoint. */
  readonly unaligned: boolean
  readonly storage: Pick<CheckpointStorage, 'writeState'>
  readonly subtaskKey: string
  readonly ack: (ack: CheckpointAck) => void
  readonly decline: (checkpointId: number, reason: string) => void
}

/** What the checkpointer needs from its subtask. */
export interface CheckpointHost {
  readonly subtask: number
  readonly gate: InputGate
  readonly chain: OperatorChain
  reader(): SourceReader<unknown> | undefined
  channelEnded(channel: number): boolean
  /** Sends the barrier downstream, after every record emitted before it. */
  forward(barrier: CheckpointBarrier): void
  /** Sends the barrier downstream ahead of what waits for credit; returns the overtaken elements per writer and target. */
  overtake(barrier: CheckpointBarrier): Array<Array<ChannelElement[] | undefined>>
  /** Takes no input until `work` settles; a rejection fails the subtask. */
  hold(work: Promise<unknown>): void
  /** Runs `step` in a later turn of the subtask's actor, so records flow in between. */
  later(step: () => void): void
  fail(error: unknown): void
}

const STEP_MS = 4

/**
 * A subtask's part of asynchronous barrier snapshotting: aligns barriers over the input channels
 * (exactly-once blocks a channel from its barrier until all channels have theirs; at-least-once does
 * not block), takes the synchronous part of the snapshot when aligned, forwards the barrier, then
 * writes keyed state a few milliseconds at a time between batches, stores it, and acknowledges.
 *
 * @example
 * checkpointer.onBarrier(channel, barrier) // from the input gate
 * checkpointer.trigger(barrier)            // sources, and subtasks whose input has ended
 */
export class SubtaskCheckpointer {
  private aligning: { barrier: CheckpointBarrier; seen: Set<number>; startedAt: number } | undefined
  private lastTaken = 0
  /** The newest checkpoint aborted: its barriers may still arrive on some channels. */
  private lastAborted = 0
  private running: { id: number; writers: KeyedSnapshotWriter[]; finish: () => void } | undefined
  private notifications: Promise<void> = Promise.resolve()
  /** Unaligned: records arriving on channels whose barrier has not come yet belong to the checkpoint. */
  private capture: { id: number; seen: Set<number>; inputs: ChannelElement[][]; complete: () => void } | undefined

  constructor(
    private readonly settings: CheckpointSettings,
    private readonly host: CheckpointHost,
  ) {}

  onBarrier(channel: number, barrier: CheckpointBarrier): void {
    // a barrier of a checkpoint already taken, aborted, or older than the one aligning is late: ignore it
    if (barrier.id <= this.lastTaken || barrier.id <= this.lastAborted) return
    if (this.aligning !== undefined && barrier.id < this.aligning.barrier.id) return
    if (this.aligning !== undefined && this.aligning.barrier.id < barrier.id) {
      this.settings.decline(this.aligning.barrier.id, `barrier ${barrier.id} overtook it`)
      this.stopAligning()
    }
    this.aligning ??= { barrier, seen: new Set(), startedAt: performance.now() }
    this.aligning.seen.add(channel)
    if (this.settings.mode === 'exactly-once') this.host.gate.block(channel)
    this.checkAligned()
  }

  /** A channel ended: it no longer holds back an alignment. */
  onChannelEnded(): void {
    this.checkAligned()
    this.checkCaptured()
  }

  /**
   * Unaligned checkpoints: a barrier handled as it arrives, ahead of the records queued before it. The
   * first barrier of a checkpoint snapshots at once, with every queued record as in-flight data.
   */
  onPriorityBarrier(channel: number, barrier: CheckpointBarrier): void {
    if (this.capture?.id === barrier.id) {
      this.capture.seen.add(channel)
      return this.checkCaptured()
    }
    if (barrier.id <= this.lastTaken || barrier.id <= this.lastAborted) return
    if (this.capture !== undefined) {
      this.settings.decline(this.capture.id, `barrier ${barrier.id} overtook it`)
      this.capture = undefined
    }
    this.take(barrier, 0, channel)
  }

  /** Unaligned: an element arrived on `channel`; before that channel's barrier it is in flight for the checkpoint. */
  onInput(channel: number, element: ChannelElement): void {
    const capture = this.capture
    if (capture !== undefined && !capture.seen.has(channel)) capture.inputs[channel]!.push(element)
  }

  /** Snapshots now, without alignment: for sources and for subtasks whose input has ended. */
  trigger(barrier: CheckpointBarrier): void {
    if (barrier.id <= this.lastTaken || barrier.id <= this.lastAborted) return
    this.take(barrier, 0)
  }

  abort(checkpointId: number): void {
    this.lastAborted = Math.max(this.lastAborted, checkpointId)
    if (this.aligning?.barrier.id === checkpointId) this.stopAligning()
    if (this.capture?.id === checkpointId) this.capture = undefined
    if (this.running?.id === checkpointId) {
      for (const w of this.running.writers) w.release()
      this.running = undefined
    }
    for (const op of this.host.chain.operators.values()) op.notifyCheckpointAborted(checkpointId)
  }

  notifyComplete(checkpointId: number): void {
    const reader = this.host.reader()
    const operators = [...this.host.chain.operators.values()]
    this.notifications = this.notifications
      .then(async () => {
        await reader?.notifyCheckpointComplete?.(checkpointId)
        for (const op of operators) await op.notifyCheckpointComplete(checkpointId)
      })
      .catch((error) => this.host.fail(error))
  }

  /** Resolves when every commit started by a completion notice has finished. */
  settled(): Promise<void> {
    return this.notifications
  }

  private checkAligned(): void {
    const a = this.aligning
    if (a === undefined) return
    for (let c = 0; c < this.host.gate.channels; c++) if (!a.seen.has(c) && !this.host.channelEnded(c)) return
    const alignmentMs = performance.now() - a.startedAt
    this.stopAligning()
    this.take(a.barrier, alignmentMs)
  }

  private stopAligning(): void {
    this.aligning = undefined
    this.host.gate.unblockAll()
  }

  /** The synchronous part: positions, operator state, and the start of the keyed snapshots. */
  private take(barrier: CheckpointBarrier, alignmentMs: number, firstChannel?: number): void {
    this.running?.finish()
    this.lastTaken = barrier.id
    const id = barrier.id
    const { chain } = this.host
    const states = new Map<
      string,
      { keyed?: KeyedSnapshotWriter; entries?: OperatorStateEntries | Promise<OperatorStateEntries> }
    >()
    const reader = this.host.reader()
    const sourceNode = chain.nodes.find((n) => n.source !== undefined)
    if (sourceNode !== undefined && reader !== undefined)
      states.set(sourceNode.uid, { entries: { split: reader.snapshotState(id) } })
    const writers: KeyedSnapshotWriter[] = []
    for (const node of chain.nodes) {
      const op = chain.operators.get(node.id)
      if (op === undefined) continue
      const entries = op.snapshotOperatorState(id)
      if (entries instanceof Promise) {
        if (!op.writesWhileSnapshotting()) this.host.hold(entries)
        // not held: store() awaits it and declines the checkpoint if it fails
        else entries.catch(() => undefined)
      }
      const keyed = op.keyedState === undefined ? undefined : new KeyedSnapshotWriter(op.keyedState, op.timers)
      if (keyed !== undefined) writers.push(keyed)
      states.set(node.uid, { keyed, entries })
    }
    let inFlight: Promise<OperatorSubtaskState['channels']> | undefined
    if (this.settings.unaligned && !barrier.savepoint) {
      const outputs = this.host
        .overtake(barrier)
        .map((targets) => targets.map((elements) => (elements === undefined ? null : elements.map(encodeElement))))
      inFlight = new Promise((resolve) => {
        const inputs = this.host.gate.queued()
        const capture = {
          id,
          seen: new Set<number>(firstChannel === undefined ? [] : [firstChannel]),
          inputs,
          complete: () =>
            resolve({
              inputs: capture.inputs.map((list) => list.map(encodeElement)),
              outputs: outputs as unknown[][][],
            }),
        }
        this.capture = capture
        this.checkCaptured()
      })
    } else this.host.forward(barrier)
    const headUid = chain.nodes[0]!.uid

    let finished = false
    const finish = (): void => {
      if (finished) return
      finished = true
      for (const w of writers) while (!w.step(Infinity));
      if (this.running?.id === id) this.running = undefined
      void this.store(id, states, alignmentMs, inFlight, headUid)
    }
    this.running = { id, writers, finish }
    const step = (): void => {
      if (this.running?.id !== id || finished) return
      let done = true
      for (const w of writers) done = w.step(STEP_MS) && done
      if (done) finish()
      // the next step after the event loop has turned: input, timers and I/O get their share first
      else setImmediate(() => this.host.later(step))
    }
    step()
  }

  private checkCaptured(): void {
    const c = this.capture
    if (c === undefined) return
    for (let ch = 0; ch < this.host.gate.channels; ch++) if (!c.seen.has(ch) && !this.host.channelEnded(ch)) return
    this.capture = undefined
    c.complete()
  }

  private async store(
    id: number,
    states: Map<
      string,
      { keyed?: KeyedSnapshotWriter; entries?: OperatorStateEntries | Promise<OperatorStateEntries> }
    >,
    alignmentMs: number,
    inFlight: Promise<OperatorSubtaskState['channels']> | undefined,
    headUid: string,
  ): Promise<void> {
    try {
      const handles: CheckpointAck['states'] = {}
      const channels = await inFlight
      await Promise.all(
        [...states].map(async ([uid, { keyed, entries }]) => {
          const resolved = await entries
          const state: OperatorSubtaskState = {
            ...(keyed ? { keyed: keyed.result() } : {}),
            ...(resolved?.split?.length ? { split: resolved.split } : {}),
            ...(resolved?.union?.length ? { union: resolved.union } : {}),
            ...(uid === headUid && channels !== undefined ? { channels } : {}),
          }
          const empty =
            state.keyed === undefined &&
            state.split === undefined &&
            state.union === undefined &&
            state.channels === undefined
          const handle: StateHandle | null = empty
            ? null
            : await this.settings.storage.writeState(id, uid, this.host.subtask, state)
          // the storage is done with the snapshot's buffer: the next snapshot writes into it
          keyed?.recycle()
          ;(handles as Record<string, { subtask: number; handle: StateHandle | null }>)[uid] = {
            subtask: this.host.subtask,
            handle,
          }
        }),
      )
      this.settings.ack({ checkpointId: id, subtaskKey: this.settings.subtaskKey, states: handles, alignmentMs })
    } catch (error) {
      this.settings.decline(id, `state could not be stored: ${(error as Error)?.message ?? error}`)
    }
  }
}

/** In-flight elements are stored with the JSON state serializer (records may hold Maps, bigints …). */
function encodeElement(element: ChannelElement): unknown {
  return jsonSerializer.serialize(element)
}

/**
 * Reads back an in-flight element of an unaligned checkpoint.
 *
 * @example
 * gate.prepend(channel, restored.map(decodeElement))
 */
export function decodeElement(data: unknown): ChannelElement {
  return jsonSerializer.deserialize(data, 1) as ChannelElement
}
