/** Queryable state: the server a job serves its queryable states from, and the client that reads them. */
export { QueryableStateServer, type QueryableStateOptions, type ResultSerializer } from './queryable-state-server.js'
export { QueryableStateClient, QueryableStateError } from './queryable-state-client.js'
