import { type CqlType, decodeValue, UNSET } from './cql-codec.js'

/**
 * The tables of the CQL test server and the small CQL subset it runs against them: INSERT (columns,
 * `?` or literal values, `USING TTL/TIMESTAMP` literals ignored), UPDATE … SET `c = ?` / `c = c + ?`
 * (counters) … WHERE key = ?, DELETE … WHERE, SELECT columns … WHERE key = ?, and CREATE … IF NOT
 * EXISTS of a table the test defined. Rows are keyed by the primary key; an unset value keeps the column.
 */

/** A table the test defined: column types and the primary key columns. */
export interface CqlTable {
  readonly keyspace: string
  readonly name: string
  readonly columns: Readonly<Record<string, CqlType>>
  readonly primaryKey: readonly string[]
  readonly rows: Map<string, Record<string, unknown>>
}

/** One bind marker: the column it binds and its type. */
export interface BindMarker {
  readonly column: string
  readonly type: CqlType
}

type Term = { readonly marker: number } | { readonly literal: string }

/** A parsed statement of a user table. */
export interface CqlStatement {
  readonly kind: 'insert' | 'update' | 'delete' | 'select' | 'create'
  readonly table: CqlTable
  readonly markers: readonly BindMarker[]
  /** insert: column → term; update: column → term (and whether it adds to a counter). */
  readonly assignments: ReadonlyArray<{ column: string; term: Term; add: '' | '+' | '-' }>
  readonly where: ReadonlyArray<{ column: string; term: Term }>
  /** select: the columns returned. */
  readonly selected: readonly string[]
}

/** A statement the server refuses (answered as Invalid, 0x2200, or Syntax error, 0x2000). */
export class CqlStatementError extends Error {
  constructor(
    readonly code: 0x2000 | 0x2200,
    message: string,
  ) {
    super(message)
  }
}

const INSERT = /^INSERT\s+INTO\s+([\w.]+)\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)\s*(?:USING\s+.*)?$/is
const UPDATE =
  /^UPDATE\s+([\w.]+)\s+(?:USING\s+(?:TTL|TIMESTAMP)\s+\d+(?:\s+AND\s+(?:TTL|TIMESTAMP)\s+\d+)?\s+)?SET\s+(.*?)\s+WHERE\s+(.*)$/is
const DELETE = /^DELETE\s+FROM\s+([\w.]+)\s+WHERE\s+(.*)$/is
const SELECT = /^SELECT\s+(.*?)\s+FROM\s+([\w.]+)(?:\s+WHERE\s+(.*?))?\s*(?:LIMIT\s+\d+)?$/is
const CREATE = /^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([\w.]+)/is

/**
 * Parses `query` against the defined tables.
 *
 * @example
 * const statement = parseStatement('INSERT INTO ks.t (id, v) VALUES (?, ?)', tables)
 */
export function parseStatement(query: string, tables: ReadonlyMap<string, CqlTable>): CqlStatement {
  const text = query.trim().replace(/;$/, '')
  const markers: BindMarker[] = []
  const table = (name: string): CqlTable => {
    const found = tables.get(name.toLowerCase())
    if (found === undefined) throw new CqlStatementError(0x2200, `unconfigured table ${name}`)
    return found
  }
  const term = (t: CqlTable, column: string, source: string): Term => {
    const type = t.columns[column]
    if (type === undefined) throw new CqlStatementError(0x2200, `Undefined column name ${column} in table ${t.name}`)
    const s = source.trim()
    if (s === '?') {
      markers.push({ column, type })
      return { marker: markers.length - 1 }
    }
    return { literal: s }
  }
  const conditions = (t: CqlTable, text: string) =>
    text.split(/\s+AND\s+/i).map((c) => {
      const m = /^(\w+)\s*=\s*(.+)$/s.exec(c.trim())
      if (m === null) throw new CqlStatementError(0x2000, `line 1: no viable alternative at ${c}`)
      return { column: m[1]!, term: term(t, m[1]!, m[2]!) }
    })
  let m = INSERT.exec(text)
  if (m !== null) {
    const t = table(m[1]!)
    const columns = m[2]!.split(',').map((c) => c.trim())
    const values = m[3]!.split(',')
    if (columns.length !== values.length) throw new CqlStatementError(0x2200, 'Unmatched column names/values')
    const assignments = columns.map((column, i) => ({ column, term: term(t, column, values[i]!), add: '' as const }))
    return { kind: 'insert', table: t, markers, assignments, where: [], selected: [] }
  }
  m = UPDATE.exec(text)
  if (m !== null) {
    const t = table(m[1]!)
    const assignments = m[2]!.split(',').map((a) => {
      const set = /^(\w+)\s*=\s*(?:(\w+)\s*([+-])\s*)?(.+)$/s.exec(a.trim())
      if (set === null) throw new CqlStatementError(0x2000, `line 1: no viable alternative at ${a}`)
      return { column: set[1]!, term: term(t, set[1]!, set[4]!), add: (set[3] ?? '') as '' | '+' | '-' }
    })
    return { kind: 'update', table: t, markers, assignments, where: conditions(t, m[3]!), selected: [] }
  }
  m = DELETE.exec(text)
  if (m !== null) {
    const t = table(m[1]!)
    return { kind: 'delete', table: t, markers, assignments: [], where: conditions(t, m[2]!), selected: [] }
  }
  m = SELECT.exec(text)
  if (m !== null) {
    const t = table(m[2]!)
    const selected = m[1]!.trim() === '*' ? Object.keys(t.columns) : m[1]!.split(',').map((c) => c.trim())
    const where = m[3] === undefined ? [] : conditions(t, m[3])
    return { kind: 'select', table: t, markers, assignments: [], where, selected }
  }
  m = CREATE.exec(text)
  if (m !== null) return { kind: 'create', table: table(m[1]!), markers, assignments: [], where: [], selected: [] }
  throw new CqlStatementError(0x2000, `line 1: statement not served by the CQL test server: ${text.slice(0, 60)}`)
}

/**
 * Runs a parsed statement with its bound values (undecoded bytes); a select returns its rows.
 *
 * @example
 * runStatement(statement, [Buffer.from([0, 0, 0, 1]), Buffer.from('v')])
 */
export function runStatement(
  statement: CqlStatement,
  values: ReadonlyArray<Buffer | null | typeof UNSET>,
): Array<Record<string, unknown>> {
  const { table } = statement
  const termValue = (column: string, term: Term): unknown => {
    const type = table.columns[column]!
    if ('marker' in term) return decodeValue(type, values[term.marker] ?? null)
    return literal(type, term.literal)
  }
  const keyOf = (row: Record<string, unknown>): string => {
    const key = table.primaryKey.map((c) => {
      const v = row[c]
      if (v === undefined || v === null || v === UNSET)
        throw new CqlStatementError(0x2200, `Some primary key parts are missing: ${c}`)
      return typeof v === 'bigint' ? v.toString() : v
    })
    return JSON.stringify(key)
  }
  const whereRow: Record<string, unknown> = {}
  for (const w of statement.where) whereRow[w.column] = termValue(w.column, w.term)
  switch (statement.kind) {
    case 'create':
      return []
    case 'insert':
    case 'update': {
      const incoming: Record<string, unknown> = { ...whereRow }
      for (const a of statement.assignments) incoming[a.column] = termValue(a.column, a.term)
      const key = keyOf(incoming)
      const row = table.rows.get(key) ?? {}
      for (const a of statement.assignments) {
        const v = incoming[a.column]
        if (v === UNSET) continue
        if (a.add === '') row[a.column] = v
        else {
          const delta = BigInt(v as bigint)
          row[a.column] = BigInt((row[a.column] as bigint | undefined) ?? 0n) + (a.add === '+' ? delta : -delta)
        }
      }
      for (const c of table.primaryKey) row[c] = incoming[c]
      table.rows.set(key, row)
      return []
    }
    case 'delete':
      table.rows.delete(keyOf(whereRow))
      return []
    case 'select': {
      const matching = [...table.rows.values()].filter((row) =>
        statement.where.every((w) => equal(row[w.column], whereRow[w.column])),
      )
      return matching.map((row) => Object.fromEntries(statement.selected.map((c) => [c, row[c] ?? null])))
    }
  }
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') return String(a) === String(b)
  return a === b
}

function literal(type: CqlType, source: string): unknown {
  if (source.startsWith("'")) return source.slice(1, -1).replace(/''/g, "'")
  if (source.toLowerCase() === 'null') return null
  if (type === 'bigint' || type === 'counter') return BigInt(source)
  if (type === 'boolean') return source.toLowerCase() === 'true'
  return Number(source)
}
