import { SluiceError } from '../errors.js'
import type { Key } from '../state/key-groups.js'

/**
 * A query was refused: `code` is the server's (ERR_UNKNOWN_JOB, ERR_UNKNOWN_STATE, ERR_JOB_RESTARTING,
 * ERR_SUBTASK_BUSY, ERR_UNAUTHORIZED, ERR_BAD_KEY …), `status` the HTTP status. A restarting job and a
 * busy subtask are retriable.
 */
export class QueryableStateError extends SluiceError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(code, message, { retriable: code === 'ERR_JOB_RESTARTING' || code === 'ERR_SUBTASK_BUSY' })
  }
}

/**
 * Reads queryable state of running jobs from a job server (`JobServer`).
 *
 * @example
 * const client = new QueryableStateClient(job.queryableStateUrl!, { token: 's3cret' })
 * const clicks = await client.get<number>(job.id, 'clicks-per-page', '/checkout') // undefined if no value
 */
export class QueryableStateClient {
  constructor(
    private readonly baseUrl: string,
    private readonly options: { token?: string; timeoutMs?: number } = {},
  ) {}

  /** The key's current value, or undefined when the state has none for it. */
  async get<T>(jobId: string, stateName: string, key: Key): Promise<T | undefined> {
    const path = `/jobs/${encodeURIComponent(jobId)}/states/${encodeURIComponent(stateName)}?key=${encodeURIComponent(JSON.stringify(key))}`
    const answer = await this.request<{ value: T }>(path, true)
    return answer?.value
  }

  /** The names of a job's queryable states. */
  async list(jobId: string): Promise<string[]> {
    return (await this.request<{ states: string[] }>(`/jobs/${encodeURIComponent(jobId)}/states`, false))!.states
  }

  private async request<T>(path: string, missingIsUndefined: boolean): Promise<T | undefined> {
    const response = await fetch(new URL(path, this.baseUrl), {
      headers: this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    })
    const body = (await response.json()) as T & { error?: { code: string; message: string } }
    if (response.ok) return body
    const { code, message } = body.error ?? { code: 'ERR_HTTP', message: `HTTP ${response.status}` }
    if (missingIsUndefined && code === 'ERR_KEY_NOT_FOUND') return undefined
    throw new QueryableStateError(code, message, response.status)
  }
}
