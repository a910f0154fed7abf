export { ActorSystem, type ActorSystemOptions } from './actor-system.js'
export type { ActorRef } from './actor-ref.js'
export type { ActorContext, ActorSystemView, Behavior, BehaviorFactory } from './behavior.js'
export { BoundedMailbox } from './mailbox.js'
export { backoffDelay, validateBackoff, type BackoffOptions } from '../util/backoff.js'
export {
  Supervision,
  type DecideStrategy,
  type EscalateStrategy,
  type RestartOptions,
  type ActorRestartStrategy,
  type RestartStrategy,
  type ResumeStrategy,
  type StopStrategy,
  type SupervisorStrategy,
} from './supervision.js'
export { DEFAULT_MAILBOX_CAPACITY, type SpawnOptions } from './spawn-options.js'
export { CreditChannel } from './credit-channel.js'
export type { ActorFailure, DeadLetter, DeadLetterReason } from './system-events.js'
