import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EventEmitter } from 'node:events'
import type { Kafka } from 'kafkajs'
import { GroupMembership } from '../../../lib/connectors/kafka/group-membership.js'
import type { TopicPartition } from '../../../lib/connectors/kafka/start-position.js'
import { createLogger } from '../../../lib/logging.js'
import { waitFor } from '../../support/wait-for.js'
import { ManualClock } from '../../time/manual-clock.js'

/**
 * GroupMembership's recovery when kafkajs gives up on the group (a CRASH it will not restart), with a
 * scripted stand-in for the kafkajs consumer: each `run()` either joins with the next assignment or
 * crashes with INVALID_REQUEST (librdkafka's mock coordinator answered a late SyncGroup so; a scripted
 * consumer shows the recovery without a broker).
 */
const Membership = suite('kafka group membership')

type Step = { join: number[] } | { crash: string }

function scriptedKafka(steps: Step[]): { kafka: Kafka; runs: () => number; crash: (message: string) => void } {
  let runs = 0
  const events = new EventEmitter()
  const crash = (message: string) =>
    events.emit('crash', {
      payload: { error: Object.assign(new Error(message), { retriable: false }), restart: false },
    })
  const consumer = {
    events: { GROUP_JOIN: 'group_join', CRASH: 'crash' },
    on: (name: string, listener: (event: unknown) => void) => events.on(name, listener),
    connect: async () => undefined,
    subscribe: async () => undefined,
    pause: () => undefined,
    disconnect: async () => undefined,
    run: async () => {
      const step = steps[runs++]
      if (step === undefined) return
      if ('join' in step) events.emit('group_join', { payload: { memberAssignment: { orders: step.join } } })
      else crash(step.crash)
    },
  }
  return { kafka: { consumer: () => consumer } as unknown as Kafka, runs: () => runs, crash }
}

function member(kafka: Kafka, clock?: ManualClock) {
  const assignments: number[][] = []
  const failures: Error[] = []
  const membership = new GroupMembership(
    kafka,
    'g',
    ['orders'],
    6_000,
    createLogger({ level: 'silent' }),
    {
      onAssignment: (partitions: TopicPartition[]) => assignments.push(partitions.map((p) => p.partition)),
      onFailure: (error) => failures.push(error),
    },
    clock,
  )
  return { membership, assignments, failures }
}

Membership('a member that lost the group gives up its partitions and joins again', async () => {
  const { kafka, runs, crash } = scriptedKafka([{ join: [0, 1] }, { join: [2] }])
  const { membership, assignments, failures } = member(kafka)
  await membership.start()
  assert.equal(assignments, [[0, 1]])
  // Later kafkajs gives up on the group: a rebalance's SyncGroup was answered INVALID_REQUEST.
  crash('INVALID_REQUEST')
  await waitFor(() => assignments.length === 3, { description: () => `assignments ${JSON.stringify(assignments)}` })
  assert.equal(assignments, [[0, 1], [], [2]], 'partitions revoked, then the new assignment')
  assert.equal(runs(), 2)
  assert.equal(failures, [])
  await membership.stop()
})

Membership('after repeated lost memberships the source fails with the cause', async () => {
  const { kafka, runs } = scriptedKafka(Array.from({ length: 10 }, () => ({ crash: 'INVALID_REQUEST' })))
  const { membership, failures } = member(kafka)
  await membership.start()
  // Backoff 250, 500, 1000, 2000, 4000 ms before the sixth failure gives up.
  await waitFor(() => failures.length === 1, {
    timeoutMs: 12_000,
    intervalMs: 20,
    description: () => `${runs()} joins, ${failures.length} failures`,
  })
  assert.equal(runs(), 6, 'the first join and five rejoins')
  assert.match(failures[0]!.message, /membership lost 6 times in a row: INVALID_REQUEST/)
  await membership.stop()
})

Membership('a stopped member does not rejoin', async () => {
  const { kafka, runs } = scriptedKafka([{ crash: 'INVALID_REQUEST' }, { join: [0] }])
  const clock = new ManualClock()
  const { membership, assignments } = member(kafka, clock)
  await membership.start()
  assert.is(clock.scheduled, 1, 'the crash scheduled a rejoin')
  await membership.stop()
  // far past the longest backoff; a rejoin would connect (a promise) and then run: both are settled by
  // the next macrotask
  clock.advanceBy(60_000)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(runs(), 1)
  assert.equal(assignments, [[]])
})

Membership.run()
