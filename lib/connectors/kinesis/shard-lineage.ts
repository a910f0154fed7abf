import type { Shard } from '@aws-sdk/client-kinesis'

const HASH_SPACE = 2n ** 128n

/**
 * The subtask that reads a shard: the slice of the 128-bit hash key space its starting hash key falls
 * in (subtask i owns [i/p, (i+1)/p) of the space). It depends only on the shard's own description, so
 * every subtask — and a job restored at another parallelism — agrees without talking to the others;
 * and the child of a split that keeps its parent's starting key stays with its parent, as does the
 * child of a merge with its lower parent.
 *
 * @example
 * shardOwner({ ShardId: 'shardId-0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '…' } }, 2) // 0
 */
export function shardOwner(shard: Shard, parallelism: number): number {
  const start = BigInt(shard.HashKeyRange?.StartingHashKey ?? '0')
  const slice = Number((start * BigInt(parallelism)) / HASH_SPACE)
  return Math.min(parallelism - 1, Math.max(0, slice))
}

/** The parents of a shard: one after a split, two after a merge, none for an original shard. */
export function parentsOf(shard: Shard): string[] {
  return [shard.ParentShardId, shard.AdjacentParentShardId].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  )
}

/**
 * Every shard of a stream now (ListShards, all pages), in id order.
 *
 * @example
 * const shards = await listShards((input) => client.send(new ListShardsCommand(input)), 'orders')
 */
export async function listShards(
  list: (input: { StreamName?: string; NextToken?: string }) => Promise<{ Shards?: Shard[]; NextToken?: string }>,
  stream: string,
): Promise<Shard[]> {
  const shards: Shard[] = []
  let token: string | undefined
  do {
    const page = await list(token === undefined ? { StreamName: stream } : { NextToken: token })
    shards.push(...(page.Shards ?? []))
    token = page.NextToken
  } while (token !== undefined)
  return shards.sort((a, b) => (a.ShardId! < b.ShardId! ? -1 : a.ShardId! > b.ShardId! ? 1 : 0))
}
