import { MessageChannel } from 'node:worker_threads'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FinishedShards } from '../../../lib/connectors/kinesis/finished-shards.js'
import {
  FinishedShardsCoordinator,
  RemoteFinishedShards,
} from '../../../lib/connectors/kinesis/finished-shards-bridge.js'
import { waitFor } from '../../support/wait-for.js'

/**
 * The Kinesis source's finished shards on the worker executor: the coordinator's set, which each
 * subtask's reader reaches through its port (here both ends live in this thread, as the executor's
 * ports do before one end is sent to a worker).
 */
const Bridge = suite('kinesis finished shards across threads')

/** A coordinator serving `subtasks` readers, each with its registry. */
function served(subtasks: number) {
  const registry = new FinishedShards()
  const coordinator = new FinishedShardsCoordinator(registry)
  const channels = Array.from({ length: subtasks }, () => new MessageChannel())
  for (const [subtask, { port1 }] of channels.entries()) coordinator.serve(subtask, port1)
  const remotes = channels.map(({ port2 }) => new RemoteFinishedShards(port2))
  // both unref their ends (a worker and the coordinator have other work): this test keeps itself alive
  for (const { port1, port2 } of channels) {
    port1.ref()
    port2.ref()
  }
  const close = () => {
    for (const { port1, port2 } of channels) {
      port1.close()
      port2.close()
    }
  }
  return { registry, coordinator, remotes, close }
}

/** Resolves on the next mark a registry hears of. */
const nextMark = (remote: RemoteFinishedShards) =>
  new Promise<void>((resolve) => {
    const unsubscribe = remote.subscribe(() => {
      unsubscribe()
      resolve()
    })
  })

Bridge("a shard one subtask finished reaches the other subtasks' readers, which are told of it", async () => {
  const { registry, remotes, close } = served(2)
  try {
    const heard = nextMark(remotes[1]!)
    remotes[0]!.mark('shardId-000000000001')
    assert.ok(remotes[0]!.isFinished('shardId-000000000001'), 'its own mark counts at once')
    await heard
    assert.ok(remotes[1]!.isFinished('shardId-000000000001'), "the other subtask's reader sees it")
    assert.ok(registry.isFinished('shardId-000000000001'), "the coordinator's set holds it")
    assert.not.ok(remotes[1]!.isFinished('shardId-000000000002'))
  } finally {
    close()
  }
})

Bridge('a reader that closes takes its marks back: the other subtasks hear the shard is not finished', async () => {
  const { registry, remotes, close } = served(2)
  try {
    const heard = nextMark(remotes[1]!)
    remotes[0]!.mark('shardId-000000000001')
    await heard
    remotes[0]!.unmark('shardId-000000000001')
    await waitFor(() => !remotes[1]!.isFinished('shardId-000000000001'), { description: 'the unmark announced' })
    assert.not.ok(registry.isFinished('shardId-000000000001'))
  } finally {
    close()
  }
})

Bridge(
  "the next deployment of a subtask drops its previous reader's marks; another subtask's mark of the shard still counts",
  async () => {
    const { registry, coordinator, remotes, close } = served(3)
    const next = new MessageChannel()
    try {
      const heard = nextMark(remotes[2]!)
      remotes[0]!.mark('shardId-000000000001')
      remotes[0]!.mark('shardId-000000000002')
      remotes[1]!.mark('shardId-000000000002')
      await heard
      await waitFor(() => registry.finished().length === 2, { description: 'the marks arrived' })
      coordinator.serve(0, next.port1)
      assert.equal(registry.finished(), ['shardId-000000000002'], "subtask 0's marks dropped, subtask 1's kept")
      await waitFor(() => !remotes[2]!.isFinished('shardId-000000000001'), {
        description: 'subtask 2 heard that shard 1 is not finished',
      })
      assert.ok(remotes[2]!.isFinished('shardId-000000000002'))
    } finally {
      close()
      next.port2.close()
    }
  },
)

Bridge("a subtask's port that closes (its worker exited or was terminated) drops its marks", async () => {
  const registry = new FinishedShards()
  const coordinator = new FinishedShardsCoordinator(registry)
  const { port1, port2 } = new MessageChannel()
  coordinator.serve(0, port1)
  const remote = new RemoteFinishedShards(port2)
  remote.mark('shardId-000000000001')
  await waitFor(() => registry.isFinished('shardId-000000000001'), { description: 'the mark arrived' })
  port2.close()
  await waitFor(() => !registry.isFinished('shardId-000000000001'), { description: 'the mark dropped with the port' })
})

Bridge.run()
