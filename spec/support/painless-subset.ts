/**
 * A small subset of Painless, Elasticsearch's script language, for the loopback node's update
 * scripts: enough to run the scripts a sink's users write for counters and flags, and to fail the way
 * Elasticsearch does on everything else.
 *
 * Statements, separated by `;`:
 * - `ctx._source.a.b = expr`, `+=`, `-=`, `*=` (arithmetic on a missing field is a runtime error, as
 *   Painless's NullPointerException);
 * - `ctx._source.list.add(expr)`, `ctx._source.remove('field')`;
 * - `ctx.op = 'noop'` or `'delete'`;
 * - `if (expr cmp expr) { … } else { … }` with `==`, `!=`, `<`, `<=`, `>`, `>=`.
 * Expressions: numbers, single- or double-quoted strings, `true`, `false`, `null`, `params.x`,
 * `ctx._source.x`, `+ - *` and parentheses.
 *
 * A script outside the subset fails with {@link ScriptError} `compile error`; a failure while running
 * with `runtime error`: the loopback node answers both as Elasticsearch does, 400 `script_exception`.
 */

/** A compile or runtime failure, named as Elasticsearch names it in `caused_by`. */
export class ScriptError extends Error {
  /** The Java exception Elasticsearch names as the cause. */
  readonly javaException: string

  constructor(
    readonly kind: 'compile error' | 'runtime error',
    detail: string,
  ) {
    super(detail)
    this.javaException =
      kind === 'compile error'
        ? 'illegal_argument_exception'
        : detail.includes('null')
          ? 'null_pointer_exception'
          : 'class_cast_exception'
  }
}

/** What a script may read and change: the document's source and the operation. */
export interface ScriptContext {
  _source: Record<string, unknown>
  op: 'index' | 'noop' | 'delete' | 'create'
}

/**
 * Runs `source` against `ctx` (changed in place) with `params`.
 *
 * @example
 * const ctx: ScriptContext = { _source: { n: 1 }, op: 'index' }
 * runPainless('ctx._source.n += params.by', { by: 2 }, ctx) // ctx._source.n === 3
 */
export function runPainless(source: string, params: Readonly<Record<string, unknown>>, ctx: ScriptContext): void {
  const program = new Parser(tokenize(source)).program()
  for (const statement of program) statement(params, ctx)
}

type Statement = (params: Readonly<Record<string, unknown>>, ctx: ScriptContext) => void
type Expression = (params: Readonly<Record<string, unknown>>, ctx: ScriptContext) => unknown

const TOKEN =
  /\s*(?:(\d+(?:\.\d+)?)|'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|\+=|-=|\*=|[=<>+\-*().;{}]))/y

interface Token {
  readonly kind: 'number' | 'string' | 'name' | 'symbol'
  readonly text: string
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break
    const at = TOKEN.lastIndex
    const match = TOKEN.exec(source)
    if (match === null) throw new ScriptError('compile error', `unexpected character at offset ${at}`)
    const [, number, single, double, name, symbol] = match
    if (number !== undefined) tokens.push({ kind: 'number', text: number })
    else if (single !== undefined || double !== undefined) tokens.push({ kind: 'string', text: single ?? double ?? '' })
    else if (name !== undefined) tokens.push({ kind: 'name', text: name })
    else tokens.push({ kind: 'symbol', text: symbol ?? '' })
  }
  return tokens
}

class Parser {
  private at = 0

  constructor(private readonly tokens: readonly Token[]) {}

  program(): Statement[] {
    const statements = this.statements(() => this.at >= this.tokens.length)
    return statements
  }

  private statements(done: () => boolean): Statement[] {
    const statements: Statement[] = []
    while (!done()) {
      if (this.accept(';')) continue
      statements.push(this.statement())
    }
    return statements
  }

  private statement(): Statement {
    if (this.acceptName('if')) return this.conditional()
    const path = this.path()
    if (path[0] === 'ctx' && path[1] === 'op' && path.length === 2) {
      this.expect('=')
      const op = this.expression()
      return (params, ctx) => {
        const value = op(params, ctx)
        if (value !== 'noop' && value !== 'delete' && value !== 'index')
          throw new ScriptError('runtime error', `invalid op [${String(value)}]`)
        ctx.op = value
      }
    }
    const field = sourcePath(path)
    if (this.accept('(')) return this.call(field)
    const operator = this.next('symbol').text
    if (!['=', '+=', '-=', '*='].includes(operator))
      throw new ScriptError('compile error', `unexpected token [${operator}]`)
    const value = this.expression()
    return (params, ctx) => {
      const next = value(params, ctx)
      const { parent, key } = resolve(ctx._source, field, true)
      parent[key] = operator === '=' ? next : arithmetic(operator[0]!, parent[key], next)
    }
  }

  /** `ctx._source.list.add(x)` or `ctx._source.remove('field')`. */
  private call(path: readonly string[]): Statement {
    const method = path[path.length - 1]
    const argument = this.expression()
    this.expect(')')
    const target = path.slice(0, -1)
    if (method === 'add')
      return (params, ctx) => {
        const { parent, key } = resolve(ctx._source, target, false)
        const list = parent[key]
        if (!Array.isArray(list)) throw new ScriptError('runtime error', `[${target.join('.')}] is not a list`)
        list.push(argument(params, ctx))
      }
    if (method === 'remove')
      return (params, ctx) => {
        const object = target.length === 0 ? ctx._source : resolve(ctx._source, target, false).parent[target.at(-1)!]
        if (typeof object !== 'object' || object === null)
          throw new ScriptError('runtime error', `[${target.join('.')}] is not an object`)
        delete (object as Record<string, unknown>)[String(argument(params, ctx))]
      }
    throw new ScriptError('compile error', `unknown method [${method}]`)
  }

  private conditional(): Statement {
    this.expect('(')
    const left = this.expression()
    const comparison = this.next('symbol').text
    if (!['==', '!=', '<', '<=', '>', '>='].includes(comparison))
      throw new ScriptError('compile error', `unexpected token [${comparison}]`)
    const right = this.expression()
    this.expect(')')
    const then = this.block()
    const otherwise = this.acceptName('else') ? this.block() : []
    return (params, ctx) => {
      const branch = compare(comparison, left(params, ctx), right(params, ctx)) ? then : otherwise
      for (const statement of branch) statement(params, ctx)
    }
  }

  private block(): Statement[] {
    this.expect('{')
    const statements = this.statements(() => this.peek()?.text === '}' || this.at >= this.tokens.length)
    this.expect('}')
    return statements
  }

  private expression(): Expression {
    let left = this.term()
    for (let symbol = this.peek(); symbol?.kind === 'symbol' && '+-*'.includes(symbol.text); symbol = this.peek()) {
      this.at++
      const [l, r, operator] = [left, this.term(), symbol.text]
      left = (params, ctx) => arithmetic(operator, l(params, ctx), r(params, ctx))
    }
    return left
  }

  private term(): Expression {
    const token = this.peek()
    if (token === undefined) throw new ScriptError('compile error', 'unexpected end of script')
    if (token.kind === 'number') {
      this.at++
      const value = Number(token.text)
      return () => value
    }
    if (token.kind === 'string') {
      this.at++
      return () => token.text
    }
    if (this.accept('(')) {
      const inner = this.expression()
      this.expect(')')
      return inner
    }
    const path = this.path()
    if (path.length === 1 && ['true', 'false', 'null'].includes(path[0]!)) {
      const value = path[0] === 'null' ? null : path[0] === 'true'
      return () => value
    }
    if (path[0] === 'params' && path.length >= 2)
      return (params) =>
        path.slice(1).reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], params)
    const field = sourcePath(path)
    return (_params, ctx) =>
      field.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], ctx._source) ?? null
  }

  /** A dotted name: `ctx._source.a.b`. */
  private path(): string[] {
    const path = [this.next('name').text]
    while (this.accept('.')) path.push(this.next('name').text)
    return path
  }

  private peek(): Token | undefined {
    return this.tokens[this.at]
  }

  private next(kind: Token['kind']): Token {
    const token = this.tokens[this.at++]
    if (token?.kind !== kind)
      throw new ScriptError(
        'compile error',
        token === undefined ? 'unexpected end of script' : `unexpected token [${token.text}]`,
      )
    return token
  }

  private accept(symbol: string): boolean {
    const token = this.peek()
    if (token?.kind !== 'symbol' || token.text !== symbol) return false
    this.at++
    return true
  }

  private acceptName(name: string): boolean {
    const token = this.peek()
    if (token?.kind !== 'name' || token.text !== name) return false
    this.at++
    return true
  }

  private expect(symbol: string): void {
    if (!this.accept(symbol))
      throw new ScriptError('compile error', `expected [${symbol}] but found [${this.peek()?.text ?? 'end of script'}]`)
  }
}

/** `ctx._source.a.b` → `['a', 'b']`; anything else is outside the subset. */
function sourcePath(path: readonly string[]): string[] {
  if (path[0] !== 'ctx' || path[1] !== '_source')
    throw new ScriptError('compile error', `cannot resolve symbol [${path.join('.')}]`)
  return path.slice(2)
}

/** The object holding the last key of `path`; intermediate objects are made when `create`. */
function resolve(
  source: Record<string, unknown>,
  path: readonly string[],
  create: boolean,
): { parent: Record<string, unknown>; key: string } {
  if (path.length === 0) throw new ScriptError('compile error', 'cannot assign to ctx._source')
  let parent = source
  for (const key of path.slice(0, -1)) {
    let child = parent[key]
    if (child === undefined && create) {
      child = {}
      parent[key] = child
    }
    if (typeof child !== 'object' || child === null) throw new ScriptError('runtime error', `[${key}] is null`)
    parent = child as Record<string, unknown>
  }
  return { parent, key: path[path.length - 1]! }
}

function arithmetic(operator: string, left: unknown, right: unknown): unknown {
  if (left === null || left === undefined || right === null || right === undefined)
    throw new ScriptError('runtime error', 'cannot apply arithmetic to null (NullPointerException)')
  if (operator === '+' && (typeof left === 'string' || typeof right === 'string')) return `${left}${right}`
  if (typeof left !== 'number' || typeof right !== 'number')
    throw new ScriptError('runtime error', `cannot apply [${operator}] to [${typeof left}] and [${typeof right}]`)
  return operator === '+' ? left + right : operator === '-' ? left - right : left * right
}

function compare(operator: string, left: unknown, right: unknown): boolean {
  switch (operator) {
    case '==':
      return left === right
    case '!=':
      return left !== right
    default: {
      if (typeof left !== 'number' || typeof right !== 'number')
        throw new ScriptError('runtime error', `cannot compare [${typeof left}] with [${typeof right}]`)
      return operator === '<'
        ? left < right
        : operator === '<='
          ? left <= right
          : operator === '>'
            ? left > right
            : left >= right
    }
  }
}
