import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type Shard,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { coordinatorOnly, passValue, replayedTest } from '../../support/worker-pass/pass-context.js'

const require = createRequire(import.meta.url)

/** A kinesalite server in this process, on 127.0.0.1, and a client for it. */
export interface Kinesalite {
  readonly endpoint: string
  readonly client: KinesisClient
  createStream(name: string, shards: number): Promise<void>
  shards(name: string): Promise<Shard[]>
  put(
    name: string,
    records: Array<{ data: string | Uint8Array; partitionKey: string; explicitHashKey?: string }>,
  ): Promise<void>
  /** Splits a shard at the middle of its hash key range; waits until the stream is ACTIVE again. */
  split(name: string, shardId: string): Promise<void>
  merge(name: string, shardId: string, adjacentShardId: string): Promise<void>
  /** Every record of every shard, by shard, read from TRIM_HORIZON. */
  readAll(name: string): Promise<Map<string, Array<{ data: Buffer; partitionKey: string; sequenceNumber: string }>>>
  stop(): Promise<void>
}

/** Connection options for the connectors. */
export const credentials = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }

/**
 * Starts kinesalite (createStream/updateStream take 50 ms). In a worker of the worker-executor test
 * pass replaying a test, the server is the coordinator's: the worker gets its port (`passValue`),
 * starts nothing, reads the coordinator's streams, and what changes them (creating, putting,
 * resharding) runs on the coordinator only.
 *
 * @example
 * const kinesis = await startKinesalite(); await kinesis.createStream('s', 2)
 */
export async function startKinesalite(): Promise<Kinesalite> {
  // the server's port, in a slot taken at the call (so that concurrent calls keep their order in a replaying worker)
  const port = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
  if (replayedTest() !== undefined) return kinesaliteAt(`http://127.0.0.1:${Atomics.load(port, 0)}`, undefined)
  const kinesalite = require('kinesalite') as (options: object) => {
    listen(port: number, host: string, cb: () => void): void
    close(cb: () => void): void
    closeAllConnections?(): void
    address(): AddressInfo
  }
  const server = kinesalite({ createStreamMs: 50, updateStreamMs: 50, deleteStreamMs: 50, shardLimit: 100 })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  Atomics.store(port, 0, server.address().port)
  return kinesaliteAt(`http://127.0.0.1:${server.address().port}`, server)
}

/** The server at `endpoint`: started by this thread (`server`), or the coordinator's. */
function kinesaliteAt(
  endpoint: string,
  server: { close(cb: () => void): void; closeAllConnections?(): void } | undefined,
): Kinesalite {
  const client = newClient(endpoint)
  const active = async (name: string): Promise<void> => {
    const deadline = Date.now() + 10_000
    for (;;) {
      const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return
      if (Date.now() > deadline) throw new Error(`stream ${name} not ACTIVE within 10 s`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  const shards = async (name: string): Promise<Shard[]> =>
    (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? []
  return {
    endpoint,
    client,
    createStream: (name, count) =>
      coordinatorOnly(async () => {
        await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: count }))
        await active(name)
      }, undefined),
    shards,
    put: (name, records) =>
      coordinatorOnly(async () => {
        for (let i = 0; i < records.length; i += 500) {
          const answer = await client.send(
            new PutRecordsCommand({
              StreamName: name,
              Records: records.slice(i, i + 500).map((r) => ({
                Data: typeof r.data === 'string' ? Buffer.from(r.data) : r.data,
                PartitionKey: r.partitionKey,
                ExplicitHashKey: r.explicitHashKey,
              })),
            }),
          )
          if (answer.FailedRecordCount) throw new Error(`${answer.FailedRecordCount} records failed`)
        }
      }, undefined),
    split: (name, shardId) =>
      coordinatorOnly(async () => {
        const shard = (await shards(name)).find((s) => s.ShardId === shardId)!
        const mid = (BigInt(shard.HashKeyRange!.StartingHashKey!) + BigInt(shard.HashKeyRange!.EndingHashKey!)) / 2n
        await client.send(
          new SplitShardCommand({ StreamName: name, ShardToSplit: shardId, NewStartingHashKey: String(mid) }),
        )
        await active(name)
      }, undefined),
    merge: (name, shardId, adjacent) =>
      coordinatorOnly(async () => {
        await client.send(
          new MergeShardsCommand({ StreamName: name, ShardToMerge: shardId, AdjacentShardToMerge: adjacent }),
        )
        await active(name)
      }, undefined),
    readAll: async (name) => {
      const result = new Map<string, Array<{ data: Buffer; partitionKey: string; sequenceNumber: string }>>()
      for (const shard of await shards(name)) {
        const list: Array<{ data: Buffer; partitionKey: string; sequenceNumber: string }> = []
        let iterator = (
          await client.send(
            new GetShardIteratorCommand({
              StreamName: name,
              ShardId: shard.ShardId,
              ShardIteratorType: 'TRIM_HORIZON',
            }),
          )
        ).ShardIterator
        while (iterator !== undefined) {
          const answer = await client.send(new GetRecordsCommand({ ShardIterator: iterator }))
          for (const r of answer.Records ?? [])
            list.push({ data: Buffer.from(r.Data!), partitionKey: r.PartitionKey!, sequenceNumber: r.SequenceNumber! })
          if ((answer.Records ?? []).length === 0) break
          iterator = answer.NextShardIterator
        }
        result.set(shard.ShardId!, list)
      }
      return result
    },
    stop: () =>
      new Promise<void>((resolve) => {
        client.destroy()
        if (server === undefined) return resolve()
        server.close(() => resolve())
        // Keep-alive connections of the connectors' clients would hold the close back.
        server.closeAllConnections?.()
      }),
  }
}

/** A client for `endpoint` with plain HTTP/1.1 (kinesalite speaks no HTTP/2). */
export function newClient(endpoint: string): KinesisClient {
  return new KinesisClient({ endpoint, ...credentials, requestHandler: new NodeHttpHandler() })
}
