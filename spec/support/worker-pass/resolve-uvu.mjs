// A module resolve hook of the worker-executor test pass (see run.ts): spec files that import `uvu` or
// `uvu/assert` get the pass's versions of them; the pass's own modules get the real ones.
let redirects = {}
let own = ''

/** @param {{ redirects: Record<string, string>, own: string }} data */
export async function initialize(data) {
  redirects = data.redirects
  own = data.own
}

export async function resolve(specifier, context, next) {
  const url = redirects[specifier]
  if (url !== undefined && !context.parentURL?.startsWith(own)) return next(url, context)
  return next(specifier, context)
}
