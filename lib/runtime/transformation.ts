import type { Key } from '../state/key-groups.js'
import type { OutputTag } from './output-tag.js'
import type { Source } from './source.js'
import type { ErrorPolicy, StreamOperator } from './stream-operator.js'

/** How records of an edge are spread over the subtasks downstream. */
export type Partitioning =
  | { kind: 'forward' }
  | { kind: 'rebalance' }
  | { kind: 'rescale' }
  | { kind: 'broadcast' }
  | { kind: 'global' }
  | { kind: 'hash'; keySelector: (value: any) => Key }

/** Whether an operator may be fused with its neighbours. */
export type ChainingStrategy = 'default' | 'new-chain' | 'never'

/** Settings every operator takes in its options. */
export interface OperatorOptions {
  /** Shown in metrics, logs and errors. */
  name?: string
  /** Stable id that checkpoints map state by; default derived from the position in the job. */
  uid?: string
  parallelism?: number
  onError?: ErrorPolicy
  chaining?: ChainingStrategy
}

interface Base {
  readonly id: number
  readonly name: string
  readonly uid: string | undefined
  readonly parallelism: number | undefined
}

/** A source node. */
export interface SourceTransformation extends Base {
  readonly kind: 'source'
  readonly source: Source<unknown>
}

/** An operator node with one or two inputs; sinks are operator nodes without output. */
export interface OperatorTransformation extends Base {
  readonly kind: 'operator'
  readonly inputs: readonly Transformation[]
  readonly createOperator: () => StreamOperator<any, any>
  readonly errorPolicy: ErrorPolicy
  readonly chaining: ChainingStrategy
  readonly isSink: boolean
  /** A sink (or source) that commits when a checkpoint completes: a bounded job takes a final checkpoint for it. */
  readonly commitsOnCheckpoint?: boolean
  readonly maxParallelism: number | undefined
}

/** A virtual node: changes how its input is partitioned. */
export interface PartitionTransformation extends Base {
  readonly kind: 'partition'
  readonly input: Transformation
  readonly partitioning: Partitioning
}

/** A virtual node: several inputs read as one. */
export interface UnionTransformation extends Base {
  readonly kind: 'union'
  readonly inputs: readonly Transformation[]
}

/** A virtual node: the side output of its input under a tag. */
export interface SideOutputTransformation extends Base {
  readonly kind: 'side-output'
  readonly input: Transformation
  readonly tag: OutputTag<unknown>
}

/** A node of the logical plan the user's pipeline builds (Flink's Transformation). */
export type Transformation =
  | SourceTransformation
  | OperatorTransformation
  | PartitionTransformation
  | UnionTransformation
  | SideOutputTransformation
