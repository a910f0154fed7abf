/**
 * Where a subtask is in its life: one value instead of flags kept in step by hand. It moves forward
 * only, along
 *
 *     created → restoring → opening → running → draining → ended → closing → closed → finished
 *
 * skipping what does not apply (no restore; no reader to start; nothing to drain; no checkpoints to
 * wait for), and to `aborted` from anywhere when the deployment stops.
 *
 * - `restoring`: loading its state from a checkpoint or savepoint.
 * - `opening`: operators are open, the source reader is starting; nothing is read yet.
 * - `running`: reading input.
 * - `draining`: all input is read; operators emit what they still hold (an asynchronous `endInput`).
 * - `ended`: end of input is sent downstream; with checkpoints, it waits for the final one.
 * - `closing`: commits settle, then the reader and the operators close (sinks flush).
 * - `closed`: operators are closed; it waits until its output channels have sent everything.
 */
export type SubtaskPhase =
  | 'created'
  | 'restoring'
  | 'opening'
  | 'running'
  | 'draining'
  | 'ended'
  | 'closing'
  | 'closed'
  | 'finished'
  | 'aborted'

/**
 * Whether end of input has gone downstream in this phase: then no element may follow it.
 *
 * @example
 * outputHasEnded('ended') // true
 */
export function outputHasEnded(phase: SubtaskPhase): boolean {
  return phase === 'ended' || phase === 'closing' || phase === 'closed' || phase === 'finished'
}
