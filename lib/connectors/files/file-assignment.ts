/**
 * The subtask that reads a file: a stable hash of its name modulo the parallelism. Every subtask lists
 * the same directory and keeps the names that hash to it, so the files are shared out without any
 * coordination, and a file stays with one reader across scans (its appended lines are read in order).
 *
 * @example
 * subtaskOfFile('app-2024-01-01.log', 4) // a number in 0..3, the same on every call and every machine
 */
export function subtaskOfFile(fileName: string, parallelism: number): number {
  if (parallelism <= 1) return 0
  // FNV-1a over UTF-16 code units: cheap, stable across processes (unlike an object's identity), and
  // well spread for names that differ only in their last characters (app.1.log, app.2.log, …).
  let hash = 0x811c9dc5
  for (let i = 0; i < fileName.length; i++) {
    hash ^= fileName.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % parallelism
}
