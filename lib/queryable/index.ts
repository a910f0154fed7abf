/** Queryable state: the client that reads it (the job server serves it: `sluice`'s `JobServer`). */
export { QueryableStateClient, QueryableStateError } from './queryable-state-client.js'
