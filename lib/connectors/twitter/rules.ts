import type { TwitterApi } from 'twitter-api-v2'
import type { Logger } from '../../logging.js'
import { TwitterStreamError, twitterError, xProblem } from './client.js'
import type { TwitterRule } from './options.js'

/** What syncing the rules changed on the server. */
export interface RulesSync {
  readonly added: readonly TwitterRule[]
  readonly deleted: readonly { id: string; value: string; tag?: string }[]
}

/**
 * Makes the server's filtered-stream rules equal to `wanted`, by tag: a server rule whose tag and value
 * a wanted rule has is kept; every other server rule is deleted; every wanted rule the server lacks is
 * added. Additions are sent first as a dry run (`dry_run=true`), so an invalid rule fails with X's own
 * message before anything changed (ConnectorError 'ERR_TWITTER', not retriable); then the deletions,
 * then the additions.
 *
 * @example
 * await syncRules(client, [{ value: 'cats has:images', tag: 'cats' }], token, logger)
 */
export async function syncRules(
  client: TwitterApi,
  wanted: readonly TwitterRule[],
  token: string,
  log: Logger | undefined,
): Promise<RulesSync> {
  const current = await call(token, 'GET stream rules', () => client.v2.streamRules())
  const existing = current.data ?? []
  const keep = new Set<string>()
  const deleted = existing.filter((rule) => {
    const match = wanted.some((w) => w.tag === rule.tag && w.value === rule.value && !keep.has(w.tag))
    if (match) keep.add(rule.tag!)
    return !match
  })
  const added = wanted.filter((w) => !keep.has(w.tag))
  if (added.length > 0) {
    const dry = await call(token, 'dry run of stream rules', () =>
      client.v2.updateStreamRules({ add: added.map((r) => ({ value: r.value, tag: r.tag })) }, { dry_run: true }),
    )
    refuseInvalid(dry, added, token)
  }
  if (deleted.length > 0)
    await call(token, 'delete stream rules', () =>
      client.v2.updateStreamRules({ delete: { ids: deleted.map((r) => r.id) } }),
    )
  if (added.length > 0) {
    const done = await call(token, 'add stream rules', () =>
      client.v2.updateStreamRules({ add: added.map((r) => ({ value: r.value, tag: r.tag })) }),
    )
    refuseInvalid(done, added, token)
  }
  if (added.length > 0 || deleted.length > 0)
    log?.info('twitter rules synced', {
      added: added.map((r) => r.tag),
      deleted: deleted.map((r) => r.tag ?? r.id),
    })
  return { added, deleted }
}

async function call<R>(token: string, what: string, request: () => Promise<R>): Promise<R> {
  try {
    return await request()
  } catch (error) {
    throw twitterError(error, token, what)
  }
}

/** X answers invalid rules with `errors` (each with the rule's value, a title and details) in a 200/201 body. */
function refuseInvalid(
  result: { errors?: unknown; meta?: unknown },
  rules: readonly TwitterRule[],
  token: string,
): void {
  const errors = Array.isArray(result.errors) ? result.errors : []
  const invalid = (result.meta as { summary?: { invalid?: number } } | undefined)?.summary?.invalid ?? 0
  if (errors.length === 0 && invalid === 0) return
  const reasons = errors.map((e) => {
    const err = e as { value?: unknown; title?: unknown; details?: unknown }
    const rule = rules.find((r) => r.value === err.value)
    const details = Array.isArray(err.details) ? err.details.join('; ') : ''
    return `rule ${rule === undefined ? JSON.stringify(err.value) : `"${rule.tag}" (${JSON.stringify(rule.value)})`}: ${String(err.title ?? 'invalid')}${details === '' ? '' : `: ${details}`}`
  })
  const text = reasons.length > 0 ? reasons.join(', ') : `${invalid} invalid rule(s)${xProblem(result)}`
  throw new TwitterStreamError('http', `twitterSource.rules refused by X: ${text}`.split(token).join('(hidden)'), {
    retriable: false,
  })
}
