import type { ActorRef } from '../actors/actor-ref.js'
import type { Behavior, BehaviorFactory } from '../actors/behavior.js'
import { loadOperatorRestore } from '../checkpoint/state-assignment.js'
import { serveQueryableStates } from '../queryable/queryable-registry.js'
import type { KeyContext } from '../state/key-context.js'
import { mailboxProcessingTime } from './mailbox-processing-time.js'
import { MetricGroup } from './metric-group.js'
import { ChannelWriter } from './channel-writer.js'
import { InputGate } from './input-gate.js'
import type { SubtaskMetrics } from './job-metrics.js'
import { OperatorChain } from './operator-chain.js'
import type { OperatorInput } from './operator-input.js'
import type { RecordBatch } from './record-batch.js'
import { RecordWriter } from './record-writer.js'
import { SourceOutputAdapter } from './source-output-adapter.js'
import type { InputStatus, SourceReader } from './source.js'
import { StreamOperator, handleUserError } from './stream-operator.js'
import { SubtaskCheckpointer, decodeElement } from './subtask-checkpointer.js'
import type { SubtaskDeployment } from './subtask-deployment.js'
import type { SubtaskMessage } from './subtask-message.js'
import { WatermarkValve } from './watermark-valve.js'

/**
 * The actor that runs one subtask of a vertex: a source reader or an input gate feeding the operator
 * chain, and record writers towards the next vertices. Everything happens in `receive`, one message at
 * a time (Flink's mailbox model); records move in batches, only while downstream gives credit.
 *
 * @example
 * ctx.spawn(subtaskBehavior(deployment), { name: 'map-0', mailboxCapacity: subtaskMailboxCapacity(deployment) })
 */
export function subtaskBehavior(deployment: SubtaskDeployment): BehaviorFactory<SubtaskMessage> {
  return (ctx) => new Subtask(deployment, ctx.self)
}

/** The longest a subtask works in one turn before it lets other actors, timers and I/O run. */
const TURN_MS = 5

class Subtask implements Behavior<SubtaskMessage> {
  private readonly chain: OperatorChain
  private readonly writers: RecordWriter[]
  private readonly gate: InputGate
  private readonly valve: WatermarkValve
  private readonly channelInputs: OperatorInput<unknown>[]
  private readonly keyContext: KeyContext | undefined
  /** Operators that may ask for a pause (sinks, async operators). */
  private readonly pausable: StreamOperator<unknown, unknown>[]
  private readonly metrics: SubtaskMetrics
  private readonly sourceOutput: SourceOutputAdapter | undefined
  private readonly budget: number
  private reader: SourceReader<unknown> | undefined
  /** The reader's start() has settled: until then nothing polls it, whatever wakes the subtask. */
  private readerStarted = false
  private readonly checkpointer: SubtaskCheckpointer | undefined
  private readonly ended: boolean[]
  private holds = 0
  private sourceStopped = false
  /** The last turn ended because its time slice ran out. */
  private overran = false
  /** End of input was sent downstream: no element may follow it. */
  private outputEnded = false
  private readonly unaligned: boolean
  /** In-flight records of an unaligned checkpoint, replayed before anything else. */
  private restoredChannels: { inputs: unknown[][]; outputs: unknown[][][] } | undefined
  private state: 'created' | 'running' | 'ending' | 'ended' | 'finishing' | 'finished' | 'aborted' = 'created'
  private runScheduled = false
  private paused = false
  private endedChannels = 0
  private closed = false
  private lastFlush = 0
  /** The source reader said nothing is available and its `isAvailable()` has not settled yet. */
  private awaitingAvailability = false
  /** Count of output channels waiting for credit, kept by the channel writers. */
  private readonly blockage = { blockedChannels: 0 }

  constructor(
    private readonly d: SubtaskDeployment,
    private readonly self: ActorRef<SubtaskMessage>,
  ) {
    const { vertex, config } = d
    this.budget = config.batchSize * 8
    this.writers = vertex.outputs.map((edge, w) => {
      const channels = d.outputs[w]!.map((spec) =>
        spec === undefined
          ? undefined
          : new ChannelWriter(
              // A buffer timeout of 0 sends every record at once: a batch holds one.
              config.bufferTimeoutMs === 0 ? 1 : config.batchSize,
              config.channelCredits,
              edge.partitioning.kind === 'hash',
              (element) => {
                spec.receiver().tell({ t: 'input', channel: spec.channel, element })
              },
              this.blockage,
            ),
      )
      return new RecordWriter(edge.partitioning, channels, edge.to.maxParallelism, edge.from.name, d.subtask)
    })
    this.chain = new OperatorChain(vertex.nodes, {
      subtask: d.subtask,
      processingTime: mailboxProcessingTime(this.self, this.d.attempt),
      runInMailbox: (fn) => void this.self.tell({ t: 'call', fn }),
      autoWatermarkIntervalMs: config.autoWatermarkIntervalMs,
      logger: d.log,
      isChained: (edge) => vertex.chainedEdges.has(edge),
      externalOutput: (edge) => this.writers[vertex.outputs.indexOf(edge)]!,
      unreadDeadLetter: d.deadLetter,
    })
    const head = vertex.head
    const headOperator = this.chain.operators.get(head.id)
    this.keyContext = headOperator?.keyedState?.keyContext
    this.channelInputs = d.inputs.map((spec) => this.chain.input(head, spec.input))
    this.gate = new InputGate(d.inputs.length)
    this.valve = new WatermarkValve(
      d.inputs.length,
      (wm) => headOperator!.processWatermark(wm),
      (idle) => headOperator!.processWatermarkStatus(idle),
    )
    this.pausable = [...this.chain.operators.values()].filter((op) => op.ready !== StreamOperator.prototype.ready)
    this.sourceOutput =
      head.source !== undefined ? new SourceOutputAdapter(this.chain.sourceOutputs.get(head.id)!) : undefined
    this.metrics = d.createMetrics(this.chain)
    this.metrics.queuedRecords = () => this.gate.queuedRecords
    this.metrics.maxQueuedRecords = () => this.gate.maxQueuedRecords
    this.metrics.bufferedRecords = () => this.writers.reduce((n, w) => n + w.bufferedRecords, 0)
    this.metrics.mailboxSize = () => this.self.mailboxSize
    this.metrics.watermark = () => this.valve.watermark
    this.metrics.details = () =>
      vertex.nodes.flatMap((node) => {
        const metrics = this.chain.operators.get(node.id)?.detailedMetrics()
        return metrics === undefined ? [] : [{ operator: node.uid, metrics }]
      })
    this.ended = new Array<boolean>(d.inputs.length).fill(false)
    this.unaligned = d.checkpointing?.unaligned === true
    if (d.queryables !== undefined)
      serveQueryableStates(d.queryables, this.chain, (fn, timeoutMs) =>
        this.self.ask((replyTo) => ({ t: 'call', fn: () => void replyTo.tell(fn()) }), timeoutMs),
      )
    this.checkpointer =
      d.checkpointing === undefined
        ? undefined
        : new SubtaskCheckpointer(d.checkpointing, {
            subtask: d.subtask,
            gate: this.gate,
            chain: this.chain,
            reader: () => this.reader,
            channelEnded: (channel) => this.ended[channel]!,
            // after end of input nothing downstream reads a barrier any more (nor returns its credit)
            forward: (barrier) => {
              if (this.outputEnded) return
              for (const writer of this.writers) writer.broadcast(barrier)
            },
            overtake: (barrier) => (this.outputEnded ? [] : this.writers.map((writer) => writer.overtake(barrier))),
            hold: (work) => {
              this.holds++
              this.later(work, () => {
                this.holds--
              })
            },
            later: (step) => void this.self.tell({ t: 'call', fn: step }),
            fail: (error) => void this.self.tell({ t: 'fail', error }),
          })
  }

  receive(message: SubtaskMessage): void {
    if (this.d.attempt.cancelled || this.state === 'aborted') return
    switch (message.t) {
      case 'start':
        return this.start()
      case 'input':
        if (this.unaligned) {
          // savepoints stay aligned, so that they can be restored at another parallelism
          if (message.element.kind === 'barrier' && !message.element.savepoint)
            return this.checkpointer!.onPriorityBarrier(message.channel, message.element)
          this.checkpointer!.onInput(message.channel, message.element)
        }
        this.gate.enqueue(message.channel, message.element)
        return this.scheduleRun()
      case 'credit':
        this.writers[message.writer]!.grant(message.target, message.n)
        return this.afterWork()
      case 'run':
        this.runScheduled = false
        return this.run()
      case 'call':
        message.fn()
        return this.afterWork()
      case 'fail':
        throw message.error
      case 'trigger-checkpoint':
        this.checkpointer?.trigger(message.barrier)
        // stop with a savepoint: nothing leaves the source after the savepoint's barrier
        if (message.stopSource === true && this.reader !== undefined) this.sourceStopped = true
        return this.afterWork()
      case 'checkpoint-complete':
        // a notice that reaches a subtask still restoring belongs to an earlier deployment: the
        // restore itself commits what that checkpoint recorded
        if (this.state === 'created') return
        return this.checkpointer?.notifyComplete(message.checkpointId)
      case 'checkpoint-abort':
        this.checkpointer?.abort(message.checkpointId)
        return this.afterWork()
      case 'finish':
        return this.finish()
    }
  }

  async postStop(): Promise<void> {
    if (this.state === 'finished') return
    this.state = 'aborted'
    this.metrics.status = 'cancelled'
    try {
      await this.reader?.close()
      await this.chain.abort()
    } catch (error) {
      this.d.log.warn('error while aborting a subtask', { vertex: this.d.vertex.name, subtask: this.d.subtask, error })
    }
  }

  private start(): void {
    if (this.d.restore === undefined) return this.open(undefined)
    const restore = this.d.restore
    const loads = this.d.vertex.nodes.map((node) =>
      loadOperatorRestore(
        restore,
        node.uid,
        node.parallelism,
        node.maxParallelism,
        this.d.subtask,
        node.source?.restoredSplits === 'all',
      ),
    )
    let restored: Awaited<(typeof loads)[number]>[] = []
    this.later(
      Promise.all(loads).then((r) => void (restored = r)),
      () => {
        let splits: unknown[] | undefined
        this.d.vertex.nodes.forEach((node, i) => {
          const r = restored[i]
          if (r === undefined) return
          if (node.source !== undefined) splits = [...r.split]
          else this.chain.operators.get(node.id)!.initializeState(r)
          if (node === this.d.vertex.head && r.channels !== undefined)
            this.restoredChannels = r.channels as typeof this.restoredChannels
        })
        this.open(splits)
      },
    )
  }

  private open(restoredSplits: unknown[] | undefined): void {
    this.chain.open()
    // a sink recovering transactions of the restored checkpoint holds input until that is settled (or fails)
    this.checkPauses()
    const channels = this.restoredChannels
    if (channels !== undefined) {
      channels.inputs.forEach((elements, c) => {
        this.gate.prepend(c, elements.map(decodeElement))
      })
      channels.outputs.forEach((targets, w) => {
        this.writers[w]?.resend(targets.map((t) => (t === null ? undefined : (t as unknown[]).map(decodeElement))))
      })
      this.restoredChannels = undefined
    }
    this.state = 'running'
    this.metrics.status = 'running'
    const source = this.d.vertex.head.source
    if (source === undefined) {
      this.d.running()
      return this.scheduleRun()
    }
    const metrics = new MetricGroup(source.name)
    const details = this.metrics.details
    const uid = this.d.vertex.head.uid
    this.metrics.details = () => {
      const values = metrics.values()
      const own =
        Object.keys(values).length === 0 ? [] : [{ operator: uid, metrics: { connector: source.name, ...values } }]
      return [...own, ...details()]
    }
    this.reader = source.createReader(
      {
        subtask: this.d.subtask,
        parallelism: this.d.vertex.parallelism,
        processingTime: mailboxProcessingTime(this.self, this.d.attempt),
        logger: this.d.log.child({ source: this.d.vertex.head.name, subtask: this.d.subtask }),
        metrics,
        deadLetter: this.d.deadLetter,
      },
      restoredSplits,
    )
    this.later(Promise.resolve(this.reader.start()), () => {
      this.readerStarted = true
      this.d.running()
      this.scheduleRun()
    })
  }

  private run(): void {
    if (this.state !== 'running') return
    if (this.reader === undefined) this.runInputs()
    else if (this.readerStarted) this.runSource(this.reader)
  }

  private runSource(reader: SourceReader<unknown>): void {
    if (this.sourceStopped) return this.flush()
    const output = this.sourceOutput!
    const limit = output.emitted + this.budget
    // a turn also ends after a time slice: slow user functions must not starve timers and checkpoints
    const deadline = performance.now() + TURN_MS
    let status: InputStatus = 'more'
    let polls = 0
    while (status === 'more' && output.emitted < limit && !this.blocked()) {
      status = reader.pollNext(output)
      // a chained sink or async operator may ask for a pause after any poll
      if (this.pausable.length > 0) this.checkPauses()
      // the clock every 16 polls: a read costs about as much as a cheap record
      if ((++polls & 15) === 0 && performance.now() > deadline) {
        this.overran = true
        break
      }
    }
    this.checkPauses()
    if (status === 'end') {
      this.sourceOutput!.emitWatermark(Infinity)
      return this.endInput()
    }
    if (status === 'nothing-available') {
      this.flush()
      // One wait at a time: every wake-up (a credit, a call) polls again, and a wait per poll piled up
      // 'call' messages until the bounded mailbox refused the credits themselves (a stalled job).
      if (this.awaitingAvailability) return
      this.awaitingAvailability = true
      return this.later(reader.isAvailable(), () => {
        this.awaitingAvailability = false
        this.scheduleRun()
      })
    }
    this.afterWork()
  }

  private runInputs(): void {
    let budget = this.budget
    const deadline = performance.now() + TURN_MS
    while (budget > 0 && !this.blocked()) {
      if (performance.now() > deadline) {
        this.overran = true
        break
      }
      const element = this.gate.poll()
      if (element === undefined) break
      const channel = this.gate.lastChannel
      switch (element.kind) {
        case 'batch':
          this.processBatch(channel, element.batch)
          budget -= element.batch.values.length
          this.checkPauses()
          break
        case 'watermark':
          this.valve.inputWatermark(channel, element.timestamp)
          budget--
          break
        case 'watermark-status':
          this.valve.inputStatus(channel, element.idle)
          break
        case 'barrier':
          this.checkpointer?.onBarrier(channel, element)
          break
        case 'end-of-input':
          if (this.ended[channel]) break
          this.ended[channel] = true
          this.valve.inputEnded(channel)
          this.checkpointer?.onChannelEnded()
          if (++this.endedChannels === this.gate.channels) this.endInput()
          break
      }
      if (this.state !== 'running') break
    }
    this.returnCredits()
    if (this.state === 'running') this.afterWork()
  }

  /**
   * Feeds a batch to the chain head. The head operator is called directly, and one try block covers
   * the batch: after a failure the error policy applies to that record and the loop goes on after it.
   */
  private processBatch(channel: number, batch: RecordBatch): void {
    const input = this.channelInputs[channel]!
    const op = input.operator
    const second = input.input === 2
    const counter = input.counter
    const { values, timestamps, keys } = batch
    const keyGroups = batch.keyGroups
    const ks = keys !== undefined ? this.keyContext : undefined
    const n = values.length
    let i = 0
    while (i < n) {
      try {
        for (; i < n; i++) {
          if (ks !== undefined) ks.set(keys![i]!, keyGroups![i]!)
          counter.recordsIn++
          if (second) op.processRecord2(values[i], timestamps === undefined ? undefined : timestamps[i])
          else op.processRecord(values[i], timestamps === undefined ? undefined : timestamps[i])
        }
      } catch (error) {
        handleUserError(op, values[i], error)
        i++
      }
    }
  }

  /** Decides what comes next after any piece of work: more input, a flush, or waiting. */
  private afterWork(): void {
    if (this.state === 'finishing') return this.checkFinished()
    if (this.state === 'ended' || this.state === 'ending') return this.flush()
    if (this.state !== 'running') return
    if (this.blocked()) {
      this.metrics.startBlocked(Date.now())
      return
    }
    this.metrics.endBlocked(Date.now())
    if ((this.reader !== undefined && !this.sourceStopped) || this.gate.hasData) {
      if (Date.now() - this.lastFlush >= this.d.config.bufferTimeoutMs) this.flush()
      this.scheduleRun()
    } else this.flush()
  }

  /** All input is read: operators emit what they hold, and downstream is told. */
  private endInput(): void {
    const pending = this.chain.endInput()
    if (pending === undefined) return this.inputEnded()
    this.state = 'ending'
    this.later(pending, () => this.inputEnded())
  }

  private inputEnded(): void {
    this.outputEnded = true
    for (const writer of this.writers) writer.broadcast({ kind: 'end-of-input' })
    if (this.checkpointer === undefined) return this.finish()
    this.state = 'ended'
    this.metrics.status = 'finishing'
    this.flush()
    this.d.ended()
  }

  /** Closes the operators (sinks flush) once commits have settled, then reports the subtask finished. */
  private finish(): void {
    if (this.state === 'finishing' || this.state === 'finished') return
    this.state = 'finishing'
    this.metrics.status = 'finishing'
    const commits = this.checkpointer?.settled() ?? Promise.resolve()
    this.later(
      commits.then(() => this.reader?.close()).then(() => this.chain.close()),
      () => {
        this.closed = true
      },
    )
  }

  private checkFinished(): void {
    if (!this.closed || this.blockage.blockedChannels > 0) return
    this.state = 'finished'
    this.metrics.status = 'finished'
    this.metrics.endBlocked(Date.now())
    this.d.finished()
  }

  private blocked(): boolean {
    return this.paused || this.holds > 0 || this.blockage.blockedChannels > 0
  }

  private checkPauses(): void {
    if (this.paused) return
    for (const op of this.pausable) {
      const ready = op.ready()
      if (ready === undefined) continue
      this.paused = true
      this.metrics.startBlocked(Date.now())
      return this.later(ready, () => {
        this.paused = false
      })
    }
  }

  private flush(): void {
    this.lastFlush = Date.now()
    for (const writer of this.writers) writer.flush()
  }

  private returnCredits(): void {
    this.gate.returnCredits((channel, n) => {
      const spec = this.d.inputs[channel]!
      spec.upstream().tell({ t: 'credit', writer: spec.writer, target: spec.target, n })
    })
  }

  private scheduleRun(): void {
    if (this.runScheduled || this.state !== 'running') return
    this.runScheduled = true
    if (!this.overran) return void this.self.tell({ t: 'run' })
    // the last turn used up its time slice: let timers, I/O and checkpoint writes run first
    this.overran = false
    setImmediate(() => this.self.tell({ t: 'run' }))
  }

  /** Runs `then` inside the actor once `work` settles; a rejection fails the subtask. */
  private later(work: Promise<unknown>, then: () => void): void {
    work.then(
      () => this.self.tell({ t: 'call', fn: then }),
      (error) => this.self.tell({ t: 'fail', error }),
    )
  }
}
