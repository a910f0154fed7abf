/** A refusal or failure the CLI prints: the server's code and message, or why it could not be reached. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The process exit code: 1 for the server's refusals, 3 when the server cannot be reached. */
    readonly exitCode = 1,
  ) {
    super(message)
  }
}

/**
 * The few REST calls the CLI makes to a job server; every non-2xx answer becomes a {@link CliError}
 * carrying the server's code and message.
 *
 * @example
 * const { jobs } = await new JobServerClient('http://127.0.0.1:8081', token).get<{ jobs: unknown[] }>('/jobs')
 */
export class JobServerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 60_000,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path, undefined, true)
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body, true)
  }

  /** The raw text of `/metrics`. */
  metrics(): Promise<string> {
    return this.call<string>('GET', '/metrics', undefined, false)
  }

  private async call<T>(method: string, path: string, body: unknown, json: boolean): Promise<T> {
    let response: Response
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const reason = cause?.code ?? cause?.message ?? (error as Error).message
      throw new CliError('ERR_UNREACHABLE', `cannot reach the job server at ${this.baseUrl} (${reason})`, 3)
    }
    const text = await response.text()
    if (!response.ok) {
      let code = `HTTP_${response.status}`
      let message = text.slice(0, 200)
      try {
        const parsed = JSON.parse(text) as { error?: { code: string; message: string } }
        if (parsed.error !== undefined) ({ code, message } = parsed.error)
      } catch {
        // not JSON: the status and the start of the text are the message
      }
      throw new CliError(code, message)
    }
    return (json ? JSON.parse(text) : text) as T
  }
}
