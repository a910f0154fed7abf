import { ActorError } from '../../errors.js'
import type { QueryableRegistry } from '../../queryable/queryable-registry.js'
import { transferError } from './transferred-error.js'
import type { FromWorker, QueryableAnswer, ToWorker } from './worker-protocol.js'

/**
 * Answers, in a worker thread, a batch of queryable-state lookups from the coordinator: each key is
 * read in the subtask of this thread that owns its key group, at once (between the subtasks' batches,
 * as the job server reads on one thread), and the answers go back in one reply. A value that cannot
 * cross threads (structured clone) is answered ERR_STATE_NOT_CLONEABLE, never a failure of the job.
 *
 * @example
 * port.on('message', (m) => m.t === 'lookup' && answerLookups(queryables, m, (reply) => port.postMessage(reply)))
 */
export async function answerLookups(
  queryables: QueryableRegistry,
  message: Extract<ToWorker, { t: 'lookup' }>,
  post: (reply: FromWorker) => void,
): Promise<void> {
  const settled = await Promise.allSettled(
    message.lookups.map(({ state, key }) => {
      const served = queryables.route(state, key)
      if (served === undefined)
        return Promise.reject(
          new ActorError('ERR_SUBTASK_STOPPED', `no subtask of this thread serves state "${state}"`, {
            retriable: true,
          }),
        )
      return served.lookup(key, 0)
    }),
  )
  const answers = settled.map(
    (s): QueryableAnswer => (s.status === 'fulfilled' ? s.value : { error: transferError(s.reason) }),
  )
  try {
    post({ t: 'lookup-reply', batch: message.batch, answers })
  } catch {
    // a value structured clone refuses (a function, a symbol): that answer fails alone
    post({ t: 'lookup-reply', batch: message.batch, answers: answers.map(cloneable) })
  }
}

/** The answer, or (its value being one structured clone refuses) an error that names no part of it. */
function cloneable(answer: QueryableAnswer): QueryableAnswer {
  if ('error' in answer) return answer
  try {
    structuredClone(answer.value)
    return answer
  } catch {
    const refused = new ActorError(
      'ERR_STATE_NOT_CLONEABLE',
      "the state's value cannot leave its worker thread: structured clone refuses it (a function, a symbol …)",
    )
    return { error: transferError(refused) }
  }
}
