import type { ActorRef } from '../actors/actor-ref.js'
import type { Behavior, BehaviorFactory } from '../actors/behavior.js'
import { loadOperatorRestore } from '../checkpoint/state-assignment.js'
import { ActorError } from '../errors.js'
import { serveQueryableStates } from '../queryable/queryable-registry.js'
import { ChannelInput } from './channel-input.js'
import { ChannelWriter } from './channel-writer.js'
import { InputGate } from './input-gate.js'
import type { SubtaskMetrics } from './job-metrics.js'
import { BatchClock } from './batch-clock.js'
import { mailboxProcessingTime } from './mailbox-processing-time.js'
import { MetricGroup } from './metric-group.js'
import { OperatorChain } from './operator-chain.js'
import { RecordWriter } from './record-writer.js'
import { SourceInput } from './source-input.js'
import { SourceOutputAdapter } from './source-output-adapter.js'
import { StreamOperator } from './stream-operator.js'
import { SubtaskCheckpointer, decodeElement } from './subtask-checkpointer.js'
import type { SubtaskDeployment } from './subtask-deployment.js'
import type { InputHost, SubtaskInput } from './subtask-input.js'
import { type SubtaskPhase, outputHasEnded } from './subtask-lifecycle.js'
import type { SubtaskMessage } from './subtask-message.js'
import type { SubtaskServices } from './subtask-services.js'
import { WatermarkValve } from './watermark-valve.js'
import { layoutKeeper } from './layout-keeper.js'

/**
 * The actor that runs one subtask of a vertex: a source reader or an input gate feeding the operator
 * chain, and record writers towards the next vertices. Everything happens in `receive`, one message at
 * a time (Flink's mailbox model); records move in batches, only while downstream gives credit.
 *
 * @example
 * ctx.spawn(subtaskBehavior(deployment, services), { name: deployment.key, mailboxCapacity: deployment.mailboxCapacity })
 */
export function subtaskBehavior(
  deployment: SubtaskDeployment,
  services: SubtaskServices,
): BehaviorFactory<SubtaskMessage> {
  return (ctx) => new Subtask(deployment, services, ctx.self)
}

/** The longest a subtask works in one turn before it lets other actors, timers and I/O run. */
const TURN_MS = 5

/**
 * A subtask is its own input's {@link InputHost}: the inputs call its prototype methods, the same
 * functions for every job's subtasks, so their optimized code survives a job (an object of closures
 * per subtask made every new job a new call target: the inputs' code was thrown away and compiled again).
 */
class Subtask implements Behavior<SubtaskMessage>, InputHost {
  private readonly chain: OperatorChain
  private readonly writers: RecordWriter[]
  private readonly gate: InputGate
  private readonly channelInput: ChannelInput
  /** The source input, once the reader is created (source subtasks only). */
  private sourceInput: SourceInput | undefined
  /** Operators that may ask for a pause (sinks, async operators). */
  private readonly pausable: StreamOperator<unknown, unknown>[]
  private readonly metrics: SubtaskMetrics
  private readonly budget: number
  private readonly checkpointer: SubtaskCheckpointer | undefined
  private phase: SubtaskPhase = 'created'
  /** Checkpoint work that holds input until it settles. */
  private holds = 0
  /** The last turn ended because its time slice ran out. */
  private overranSlice = false
  private readonly unaligned: boolean
  /** In-flight records of an unaligned checkpoint, replayed before anything else. */
  private restoredChannels: { inputs: unknown[][]; outputs: unknown[][][] } | undefined
  private runScheduled = false
  private paused = false
  private lastFlush = 0
  /** Count of output channels waiting for credit, kept by the channel writers. */
  private readonly blockage = { blockedChannels: 0 }
  /** The operators' processing time: read once per batch while the subtask works. */
  private readonly clock: BatchClock
  /** When it was built, in the {@link layoutKeeper}'s sequence. */
  private readonly builtAt = layoutKeeper.stamp()

  constructor(
    private readonly d: SubtaskDeployment,
    private readonly s: SubtaskServices,
    private readonly self: ActorRef<SubtaskMessage>,
  ) {
    const { vertex, config } = s
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
              (element) => s.send(spec.receiver, { t: 'input', channel: spec.channel, element }),
              this.blockage,
            ),
      )
      return new RecordWriter(edge.partitioning, channels, edge.to.maxParallelism, edge.from.name, d.subtask)
    })
    this.clock = new BatchClock(mailboxProcessingTime(this.self, s.attempt))
    this.chain = new OperatorChain(vertex.nodes, {
      subtask: d.subtask,
      processingTime: this.clock,
      runInMailbox: (fn) => void this.self.tell({ t: 'call', fn }),
      autoWatermarkIntervalMs: config.autoWatermarkIntervalMs,
      logger: s.log,
      isChained: (edge) => vertex.chainedEdges.has(edge),
      externalOutput: (edge) => this.writers[vertex.outputs.indexOf(edge)]!,
      unreadDeadLetter: s.deadLetter,
    })
    const headOperator = this.chain.operators.get(vertex.head.id)
    this.gate = new InputGate(d.inputs.length)
    const valve = new WatermarkValve(
      d.inputs.length,
      (wm) => headOperator!.processWatermark(wm),
      (idle) => headOperator!.processWatermarkStatus(idle),
    )
    this.channelInput = new ChannelInput(
      this.gate,
      valve,
      d.inputs.map((spec) => this.chain.input(vertex.head, spec.input)),
      headOperator?.keyedState?.keyContext,
      () => this.checkpointer,
      (channel, n) => {
        const spec = d.inputs[channel]!
        s.send(spec.upstream, { t: 'credit', writer: spec.writer, target: spec.target, n })
      },
      this,
      d.checkpointing?.unaligned !== true,
    )
    this.pausable = [...this.chain.operators.values()].filter((op) => op.ready !== StreamOperator.prototype.ready)
    this.metrics = s.createMetrics(this.chain)
    this.metrics.queuedRecords = () => this.gate.queuedRecords
    this.metrics.maxQueuedRecords = () => this.gate.maxQueuedRecords
    this.metrics.bufferedRecords = () => this.writers.reduce((n, w) => n + w.bufferedRecords, 0)
    this.metrics.mailboxSize = () => this.self.mailboxSize
    this.metrics.watermark = () => valve.watermark
    this.metrics.details = () =>
      vertex.nodes.flatMap((node) => {
        const metrics = this.chain.operators.get(node.id)?.detailedMetrics()
        return metrics === undefined ? [] : [{ operator: node.uid, metrics }]
      })
    this.metrics.connectorGroups = vertex.nodes.flatMap((node) => {
      const group = this.chain.operators.get(node.id)?.connectorMetrics()
      return group === undefined ? [] : [{ operator: node.uid, group }]
    })
    this.unaligned = d.checkpointing?.unaligned === true
    // The job server answers on this subtask's thread, never inside a message: a read there sees the
    // state between two messages, as an ask would, without waiting behind the input queued in the mailbox
    // (under load an ask waited tens of milliseconds for the lookup's turn).
    if (s.queryables !== undefined)
      serveQueryableStates(s.queryables, this.chain, (read) => {
        if (this.phase === 'aborted' || s.attempt.cancelled)
          throw new ActorError('ERR_SUBTASK_STOPPED', `subtask ${d.key} has stopped`, { retriable: true })
        return read()
      })
    this.checkpointer =
      d.checkpointing === undefined
        ? undefined
        : new SubtaskCheckpointer(
            {
              ...d.checkpointing,
              storage: s.storage!,
              subtaskKey: d.key,
              ack: (ack) => s.report({ t: 'ack', ack }),
              decline: (checkpointId, reason) => s.report({ t: 'decline', checkpointId, reason }),
            },
            {
              subtask: d.subtask,
              gate: this.gate,
              chain: this.chain,
              reader: () => this.sourceInput?.reader,
              channelEnded: (channel) => this.channelInput.ended[channel]!,
              // after end of input nothing downstream reads a barrier any more (nor returns its credit)
              forward: (barrier) => {
                if (outputHasEnded(this.phase)) return
                for (const writer of this.writers) writer.broadcast(barrier)
              },
              overtake: (barrier) =>
                outputHasEnded(this.phase) ? [] : this.writers.map((writer) => writer.overtake(barrier)),
              hold: (work) => {
                this.holds++
                this.later(work, () => {
                  this.holds--
                })
              },
              later: (step) => void this.self.tell({ t: 'call', fn: step }),
              fail: (error) => void this.self.tell({ t: 'fail', error }),
            },
          )
  }

  /** What the subtask reads: its source, or its channels. */
  private get input(): SubtaskInput {
    return this.sourceInput ?? this.channelInput
  }

  receive(message: SubtaskMessage): void {
    this.clock.begin()
    try {
      this.handle(message)
    } finally {
      this.clock.end()
    }
  }

  private handle(message: SubtaskMessage): void {
    if (this.s.attempt.cancelled || this.phase === 'aborted') return
    // any message ends a wait for input: the subtask has work (Flink counts mailbox actions as busy)
    if (this.metrics.activity === 'idle') this.metrics.enter('busy')
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
        if (message.stopSource === true) this.sourceInput?.stop()
        return this.afterWork()
      case 'checkpoint-complete':
        // a notice that reaches a subtask still restoring belongs to an earlier deployment: the
        // restore itself commits what that checkpoint recorded
        if (this.phase === 'created' || this.phase === 'restoring') return
        return this.checkpointer?.notifyComplete(message.checkpointId)
      case 'checkpoint-abort':
        this.checkpointer?.abort(message.checkpointId)
        return this.afterWork()
      case 'finish':
        return this.finish()
    }
  }

  async postStop(): Promise<void> {
    layoutKeeper.ended(this)
    if (this.phase === 'finished') return
    this.phase = 'aborted'
    this.metrics.status = 'cancelled'
    try {
      await this.sourceInput?.reader.close()
      await this.chain.abort()
    } catch (error) {
      this.s.log.warn('error while aborting a subtask', { vertex: this.s.vertex.name, subtask: this.d.subtask, error })
    }
  }

  private start(): void {
    const readState = this.s.readState
    if (this.d.restore === undefined || readState === undefined) return this.open(undefined)
    this.phase = 'restoring'
    const restore = { metadata: this.d.restore, read: readState }
    const nodes = this.s.vertex.nodes
    const loads = nodes.map((node) =>
      loadOperatorRestore(
        restore,
        node.uid,
        node.parallelism,
        node.maxParallelism,
        this.d.subtask,
        node.source?.restoredSplits,
      ),
    )
    let restored: Awaited<(typeof loads)[number]>[] = []
    this.later(
      Promise.all(loads).then((r) => void (restored = r)),
      () => {
        let splits: unknown[] | undefined
        nodes.forEach((node, i) => {
          const r = restored[i]
          if (r === undefined) return
          if (node.source !== undefined) splits = [...r.split]
          else this.chain.operators.get(node.id)!.initializeState(r)
          if (node === this.s.vertex.head && r.channels !== undefined)
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
    this.metrics.status = 'running'
    const { vertex, log, deadLetter, attempt } = this.s
    const source = vertex.head.source
    if (source === undefined) {
      return this.running()
    }
    this.phase = 'opening'
    const metrics = new MetricGroup(source.name)
    const details = this.metrics.details
    const uid = vertex.head.uid
    this.metrics.connectorGroups = [{ operator: uid, group: metrics }, ...this.metrics.connectorGroups]
    this.metrics.details = () => {
      const values = metrics.values()
      const own =
        Object.keys(values).length === 0 ? [] : [{ operator: uid, metrics: { connector: source.name, ...values } }]
      return [...own, ...details()]
    }
    const reader = source.createReader(
      {
        subtask: this.d.subtask,
        parallelism: vertex.parallelism,
        processingTime: mailboxProcessingTime(this.self, attempt),
        logger: log.child({ source: vertex.head.name, subtask: this.d.subtask }),
        metrics,
        deadLetter,
        checkpointIntervalMs: this.d.checkpointing?.intervalMs,
      },
      restoredSplits,
    )
    const output = new SourceOutputAdapter(this.chain.sourceOutputs.get(vertex.head.id)!)
    this.sourceInput = new SourceInput(reader, output, this)
    this.later(Promise.resolve(reader.start()), () => this.running())
  }

  /** Operators open and the reader started: the subtask runs. */
  private running(): void {
    this.phase = 'running'
    layoutKeeper.running(this.builtAt)
    this.s.report({ t: 'subtask-running' })
    this.scheduleRun()
  }

  /** One turn: the input processes what it can, then the subtask decides what comes next. */
  private run(): void {
    if (this.phase !== 'running') return
    const turn = this.input.processInput(this.budget, performance.now() + TURN_MS)
    if (turn === 'end') return this.endInput()
    if (turn === 'idle') return this.waitForInput()
    if (this.phase === 'running') this.afterWork()
  }

  /** Decides what comes next after any piece of work: more input, a flush, or waiting. */
  private afterWork(): void {
    if (this.phase === 'closed') return this.checkFinished()
    if (this.phase === 'closing') return this.metrics.enter('idle')
    if (this.phase === 'ended' || this.phase === 'draining') return this.waitForInput()
    if (this.phase !== 'running') return
    if (this.blocked()) return this.metrics.enter('backpressured')
    if (this.input.hasMore) {
      this.metrics.enter('busy')
      if (Date.now() - this.lastFlush >= this.s.config.bufferTimeoutMs) this.flush()
      this.scheduleRun()
    } else this.waitForInput()
  }

  /** Nothing to read now (or ever, after end of input): what is buffered goes out, and the subtask is idle. */
  private waitForInput(): void {
    this.flush()
    this.metrics.enter('idle')
  }

  /** All input is read: operators emit what they hold, and downstream is told. */
  private endInput(): void {
    const pending = this.chain.endInput()
    if (pending === undefined) return this.inputEnded()
    this.phase = 'draining'
    this.later(pending, () => this.inputEnded())
  }

  private inputEnded(): void {
    for (const writer of this.writers) writer.broadcast({ kind: 'end-of-input' })
    if (this.checkpointer === undefined) {
      this.phase = 'ended'
      return this.finish()
    }
    this.phase = 'ended'
    this.metrics.status = 'finishing'
    this.flush()
    this.s.report({ t: 'subtask-ended', key: this.d.key })
  }

  /** Closes the operators (sinks flush) once commits have settled, then reports the subtask finished. */
  private finish(): void {
    if (this.phase === 'closing' || this.phase === 'closed' || this.phase === 'finished') return
    this.phase = 'closing'
    this.metrics.status = 'finishing'
    const commits = this.checkpointer?.settled() ?? Promise.resolve()
    this.later(
      commits.then(() => this.sourceInput?.reader.close()).then(() => this.chain.close()),
      () => {
        this.phase = 'closed'
      },
    )
  }

  private checkFinished(): void {
    // what is left to send waits for credit
    if (this.blockage.blockedChannels > 0) return this.metrics.enter('backpressured')
    this.phase = 'finished'
    this.metrics.status = 'finished'
    this.metrics.enter('idle')
    this.s.report({ t: 'subtask-finished' })
  }

  /** {@link InputHost.overran} */
  overran(): void {
    this.overranSlice = true
  }

  /** {@link InputHost.blocked} */
  blocked(): boolean {
    return this.paused || this.holds > 0 || this.blockage.blockedChannels > 0
  }

  /** {@link InputHost.checkPauses}; called after every poll and every channel batch, so the next batch reads the clock again. */
  checkPauses(): void {
    this.clock.nextBatch()
    if (this.paused || this.pausable.length === 0) return
    for (const op of this.pausable) {
      const ready = op.ready()
      if (ready === undefined) continue
      this.paused = true
      this.metrics.enter('backpressured')
      return this.later(ready, () => {
        this.paused = false
      })
    }
  }

  private flush(): void {
    this.lastFlush = Date.now()
    for (const writer of this.writers) writer.flush()
  }

  /** {@link InputHost.scheduleRun} */
  scheduleRun(): void {
    if (this.runScheduled || this.phase !== 'running') return
    this.runScheduled = true
    if (!this.overranSlice) return void this.self.tell({ t: 'run' })
    // the last turn used up its time slice: let timers, I/O and checkpoint writes run first
    this.overranSlice = false
    setImmediate(() => this.self.tell({ t: 'run' }))
  }

  /** Runs `then` inside the actor once `work` settles; a rejection fails the subtask ({@link InputHost.later}). */
  later(work: Promise<unknown>, then: () => void): void {
    work.then(
      () => this.self.tell({ t: 'call', fn: then }),
      (error) => this.self.tell({ t: 'fail', error }),
    )
  }
}
