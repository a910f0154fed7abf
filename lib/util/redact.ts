/**
 * Redaction of credentials from text that leaves the process: error messages and log lines. Applied
 * once where those are built (`SluiceError`, `describeValue`, the logger), so a connector may put a
 * URL or its options into a message without redacting at the call site.
 *
 * What is redacted: the user info of URLs (`mqtt://alice:secret@host` → `mqtt://[redacted]@host`), and
 * the value of any key whose name contains password, passwd, passcode, passphrase, secret, token, sasl,
 * accessKey, apiKey, authorization or credential — in objects, in JSON text and in `key=value` text.
 */

/** What stands in for a redacted value. */
export const REDACTED = '[redacted]'

const SECRET_WORDS =
  'pass(?:word|wd|code|phrase)|secret|token|sasl|access[_-]?key|api[_-]?key|authorization|credentials?'
const SECRET_KEY = new RegExp(SECRET_WORDS, 'i')
/** `scheme://userinfo@`: everything between `//` and the first `@` of the authority. */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi
/** `"someSecretKey": "value"` or `"someSecretKey": 123` in JSON text. */
const JSON_SECRET = new RegExp(
  `("[^"\\\\]*(?:${SECRET_WORDS})[^"\\\\]*"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|[^\\s,{}\\[\\]"]+)`,
  'gi',
)
/** `someSecretKey=value` or `someSecretKey: value` in plain text (query strings, connection strings). */
const PAIR_SECRET = new RegExp(
  `(\\b[\\w.-]*(?:${SECRET_WORDS})[\\w.-]*\\s*[=:]\\s*)((?:bearer|basic)\\s+)?(?!\\[redacted\\])[^\\s&;,'"}]+`,
  'gi',
)

/**
 * Whether a key names a credential (its value is never printed).
 *
 * @example
 * isSecretKey('saslPassword') // true
 * isSecretKey('topic') // false
 */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/**
 * `text` with URL user info and the values of credential keys replaced by `[redacted]`.
 *
 * @example
 * redactText('cannot reach mqtt://alice:secret@broker:1883') // 'cannot reach mqtt://[redacted]@broker:1883'
 * redactText('{"user":"a","password":"x"}') // '{"user":"a","password":"[redacted]"}'
 * redactText('host=db password=x') // 'host=db password=[redacted]'
 */
export function redactText(text: string): string {
  if (!text.includes('@') && !SECRET_KEY.test(text)) return text
  return text
    .replace(URL_USER_INFO, `$1${REDACTED}@`)
    .replace(JSON_SECRET, `$1"${REDACTED}"`)
    .replace(PAIR_SECRET, `$1${REDACTED}`)
}

/**
 * A `JSON.stringify` replacer that redacts: credential keys get `[redacted]`, strings lose URL user
 * info and `key=value` secrets, errors print as `{ name, message, code }` with the message redacted,
 * functions as `[function name]` and bigints as text.
 *
 * @example
 * JSON.stringify({ url: 'amqp://u:p@h', password: 'x', f() {} }, redactingReplacer)
 * // '{"url":"amqp://[redacted]@h","password":"[redacted]","f":"[function f]"}'
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && value !== undefined && value !== null && SECRET_KEY.test(key)) return REDACTED
  switch (typeof value) {
    case 'string':
      return redactText(value)
    case 'function':
      return `[function ${value.name || 'anonymous'}]`
    case 'bigint':
      return value.toString()
    default:
      if (value instanceof Error)
        return { name: value.name, message: redactText(value.message), code: (value as { code?: unknown }).code }
      return value
  }
}
