/** An error as plain data: what a log line or a REST answer carries, its causes nested. */
export interface ErrorChain {
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly stack?: string
  readonly cause?: ErrorChain
}

/** Causes followed at most: a cycle (`a.cause = b; b.cause = a`) must not hang a log line. */
const MAX_DEPTH = 8

/**
 * An error with its stack and its chain of causes as plain JSON-safe data; a thrown non-Error becomes
 * `{ name: 'NonError', message }`.
 *
 * @example
 * errorChain(new Error('write failed', { cause: new Error('ECONNRESET') })).cause?.message // 'ECONNRESET'
 */
export function errorChain(error: unknown, depth = 0): ErrorChain {
  if (!(error instanceof Error)) return { name: 'NonError', message: String(error) }
  const code = (error as { code?: unknown }).code
  const cause = (error as { cause?: unknown }).cause
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(cause === undefined || depth + 1 >= MAX_DEPTH ? {} : { cause: errorChain(cause, depth + 1) }),
  }
}
