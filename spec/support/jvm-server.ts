import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The JVM server kit: servers from Maven Central (Kafka today; Cassandra, HDFS, Flume next), each
 * described by `servers/<name>/pom.xml`, started as a child JVM of the test process on loopback ports
 * with its own data directory.
 *
 * Lifetime: no server outlives its test run. A JVM is started under `setpriv --pdeathsig SIGKILL`, so
 * the kernel kills it when this process dies, even of SIGKILL; a normal exit kills it too (an 'exit'
 * hook); and every JVM leaves a pid file in `<tmpdir>/sluice-jvm-servers/` that the next start sweeps:
 * a JVM whose owner is gone is killed and its data directory removed.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** Where every JVM of ours leaves its pid file, for the sweep. */
export const PID_DIRECTORY = join(tmpdir(), 'sluice-jvm-servers')
const PIDS = PID_DIRECTORY
/** Marks our JVMs on their command line, so the sweep never kills a process that reused a pid. */
const MARKER = '-Dsluice.server='

/** JVMs started by this process and not yet exited. */
const running = new Set<JvmProcess>()
process.on('exit', () => {
  for (const jvm of running) jvm.killNow()
})
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const jvm of running) jvm.killNow()
    process.kill(process.pid, signal)
  })
}

/** The directory of a server's pom.xml and config files. */
export function serverDir(name: string): string {
  return join(ROOT, 'servers', name)
}

/**
 * The classpath of `servers/<name>/pom.xml`: Maven resolves it into the local cache (`~/.m2`) —
 * offline first (`mvn -o`), online when the cache lacks a jar — and it is kept in
 * `servers/<name>/target/classpath.txt` until the pom changes or a jar is gone.
 *
 * @example
 * const classpath = await serverClasspath('kafka') // '/root/.m2/repository/…/kafka_2.13-4.4.0.jar:…'
 */
export function serverClasspath(name: string): Promise<string> {
  // one resolution per server and process: the nodes of a cluster start together and would race on
  // the same partial file (it is named after the process)
  let classpath = classpaths.get(name)
  if (classpath === undefined) {
    classpath = resolveClasspath(name)
    classpaths.set(name, classpath)
    classpath.catch(() => classpaths.delete(name))
  }
  return classpath
}

const classpaths = new Map<string, Promise<string>>()

async function resolveClasspath(name: string): Promise<string> {
  const pom = join(serverDir(name), 'pom.xml')
  const file = join(serverDir(name), 'target', 'classpath.txt')
  if (existsSync(file) && statSync(file).mtimeMs >= statSync(pom).mtimeMs) {
    const classpath = readFileSync(file, 'utf8').trim()
    if (classpath.split(':').every((jar) => existsSync(jar))) return classpath
  }
  mkdirSync(join(serverDir(name), 'target'), { recursive: true })
  const partial = `${file}.${process.pid}`
  const resolve = (offline: boolean): Promise<string> =>
    run('mvn', [
      '-q',
      '-B',
      ...(offline ? ['-o'] : []),
      '-f',
      pom,
      'dependency:build-classpath',
      `-Dmdep.outputFile=${partial}`,
    ])
  await resolve(true).catch(() => resolve(false))
  renameSync(partial, file)
  return readFileSync(file, 'utf8').trim()
}

/**
 * Runs `java -cp <server's classpath> mainClass args` to completion (a server's own tools: formatting
 * storage, creating users), rejecting with its output when it fails.
 *
 * @example
 * await runJavaTool('kafka', 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', file])
 */
export async function runJavaTool(
  name: string,
  mainClass: string,
  args: string[],
  jvmOptions: string[] = [],
): Promise<string> {
  const classpath = await serverClasspath(name)
  return run('java', ['-Xmx256m', '-XX:+UseSerialGC', ...jvmOptions, '-cp', classpath, mainClass, ...args])
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${command} ${args.slice(-3).join(' ')} failed: ${stderr || stdout || error.message}`))
      else resolve(stdout)
    })
  })
}

/** Options of {@link JvmProcess}. */
export interface JvmProcessOptions {
  /** The server (`servers/<name>`), for its classpath. */
  readonly server: string
  /** Said in errors and in the pid file: 'kafka node 1'. */
  readonly label: string
  readonly mainClass: string
  readonly args: readonly string[]
  /** Heap and other JVM flags; default a 256 MiB heap with the serial collector. */
  readonly jvmOptions?: readonly string[]
  /** The server's data directory: removed by {@link JvmProcess.dispose} and by the sweep. */
  readonly dataDir: string
  /** A line of the server's output that says it is ready. */
  readonly readyLine: RegExp
  /** Give up on a start after this long; default 60 s. */
  readonly startTimeoutMs?: number
  /** Gives the JVM a stdin pipe for {@link JvmProcess.send} (a launcher's commands); default none. */
  readonly stdin?: boolean
}

/**
 * One server JVM the test owns: start (waits for its ready line), stop (SIGTERM, then SIGKILL after
 * 10 s), kill (a crash), start again on the same data; dispose stops it and removes its data.
 *
 * Threading: one caller at a time (a test); `start` and `stop` must not overlap.
 *
 * @example
 * const jvm = new JvmProcess({ server: 'kafka', label: 'kafka node 1', mainClass: 'kafka.Kafka',
 *   args: [propertiesFile], dataDir, readyLine: /Kafka Server started/ })
 * await jvm.start(); …; await jvm.dispose()
 */
export class JvmProcess {
  private child: ChildProcess | undefined
  private output = ''
  private pidFile: string | undefined

  constructor(readonly options: JvmProcessOptions) {}

  /** Whether the JVM runs. */
  get running(): boolean {
    return this.child !== undefined
  }

  /** The JVM's process id while it runs (setpriv execs java in place: same pid), to signal it (SIGSTOP). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /** The last 8,000 characters the JVM printed. */
  get log(): string {
    return this.output
  }

  /** Starts the JVM and waits until it prints its ready line; kills it and rejects when it does not. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error(`${this.options.label} already running`)
    sweepOrphans()
    const { server, label, mainClass, args, jvmOptions = ['-Xms128m', '-Xmx256m', '-XX:+UseSerialGC'] } = this.options
    const classpath = await serverClasspath(server)
    const java = ['java', `${MARKER}${server}`, ...jvmOptions, '-cp', classpath, mainClass, ...args]
    const pdeathsig = existsSync('/usr/bin/setpriv')
    const child = spawn(
      pdeathsig ? '/usr/bin/setpriv' : 'java',
      pdeathsig ? ['--pdeathsig', 'SIGKILL', ...java] : java.slice(1),
      {
        stdio: [this.options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      },
    )
    this.child = child
    running.add(this)
    this.output = ''
    let resolve!: () => void
    let reject!: (error: Error) => void
    const ready = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-8000)
      if (this.options.readyLine.test(this.output)) resolve()
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    child.once('error', (error) => reject(error))
    child.once('exit', (code, signal) => {
      running.delete(this)
      if (this.child === child) this.child = undefined
      if (this.pidFile !== undefined) rmSync(this.pidFile, { force: true })
      reject(new Error(`${label} exited (${signal ?? code}) before it was ready: ${this.output.trim()}`))
    })
    if (child.pid !== undefined) {
      mkdirSync(PIDS, { recursive: true })
      this.pidFile = join(PIDS, `${child.pid}.json`)
      writeFileSync(
        this.pidFile,
        JSON.stringify({ owner: process.pid, pid: child.pid, label, dataDir: this.options.dataDir }),
      )
    }
    const timeoutMs = this.options.startTimeoutMs ?? 60_000
    const timer = setTimeout(
      () => reject(new Error(`${label} not ready within ${timeoutMs} ms: ${this.output.trim()}`)),
      timeoutMs,
    )
    try {
      await ready
    } catch (error) {
      this.killNow()
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Writes `line` to the JVM's stdin (the server must have been started with `stdin: true`) and waits
   * until its output shows `answer` after it; resolves with that output.
   *
   * @example
   * await jvm.send('restart-datanode', /done restart-datanode/)
   */
  async send(line: string, answer: RegExp, timeoutMs = 120_000): Promise<string> {
    const child = this.child
    if (child?.stdin == null) throw new Error(`${this.options.label} has no stdin to send '${line}' to`)
    let seen = ''
    const answered = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.stdout!.off('data', listen)
        reject(new Error(`${this.options.label} did not answer '${line}' within ${timeoutMs} ms: ${seen}`))
      }, timeoutMs)
      const listen = (chunk: Buffer): void => {
        seen += chunk.toString('utf8')
        if (!answer.test(seen)) return
        clearTimeout(timer)
        child.stdout!.off('data', listen)
        resolve(seen)
      }
      child.stdout!.on('data', listen)
    })
    child.stdin.write(`${line}\n`)
    return answered
  }

  /** Stops the JVM with `signal` (SIGTERM: a clean shutdown; SIGKILL: a crash) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }

  /** Stops the JVM (SIGKILL) and removes its data directory. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL')
    rmSync(this.options.dataDir, { recursive: true, force: true })
  }

  /** Lets this process exit while the JVM runs (it still dies with this process): for benchmark cases. */
  unref(): void {
    const child = this.child
    if (child === undefined) return
    child.unref()
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.()
  }

  /** SIGKILL now, without waiting (exit hooks). */
  killNow(): void {
    this.child?.kill('SIGKILL')
    if (this.pidFile !== undefined) rmSync(this.pidFile, { force: true })
  }
}

/**
 * Kills the JVMs of test runs that died without cleaning up (owner gone; `-Dsluice.server=` on the
 * command line, so a process that reused the pid is spared), and removes their data directories.
 * Every start runs it.
 *
 * @example
 * sweepOrphans()
 */
export function sweepOrphans(): void {
  if (!existsSync(PIDS)) return
  for (const name of readdirSync(PIDS)) {
    const file = join(PIDS, name)
    let entry: { owner: number; pid: number; dataDir: string }
    try {
      entry = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      continue
    }
    if (alive(entry.owner)) continue
    if (alive(entry.pid) && commandLine(entry.pid).includes(MARKER)) process.kill(entry.pid, 'SIGKILL')
    rmSync(entry.dataDir, { recursive: true, force: true })
    rmSync(file, { force: true })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return ''
  }
}
