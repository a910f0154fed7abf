/** What the steady-state child of the tcp-server-source case (tcp-steady-server.ts) is told and answers. */
export type SteadyRequest = { readonly kind: 'batch' } | { readonly kind: 'close' }

/** One timed batch: n lines over a new client connection into the server or job started once. */
export interface SteadyBatch {
  readonly kind: 'batch'
  readonly records: number
  readonly output: number
  readonly checksum: number
  /** Wall and CPU time (every thread of the child) from the client's connect to the batch's last line counted. */
  readonly ms: number
  readonly cpuMs: number
}

/** The child's answers: ready after its warm-up batches, a batch, or an error that ends it. */
export type SteadyReply = { readonly kind: 'ready' } | SteadyBatch | { readonly kind: 'failed'; readonly error: string }
