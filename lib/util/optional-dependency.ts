import { ConfigError, messageOf } from '../errors.js'

/**
 * Connector clients (kafkajs, amqplib, mqtt, ioredis, @stomp/*, the AWS SDK) are optional peer
 * dependencies: a user of the engine alone installs none of them, and the engine entry imports none.
 * A connector file imports only the client's types statically and loads the client here, with a
 * top-level `await optionalDependency(…)`: the load never fails, so `sluice/connectors/<name>` always
 * imports. A client that is missing fails when the connector is built (each connector's constructor
 * asks for its client, by `check` or by using it), with a {@link MissingPackageError} naming the package
 * to install.
 */

/** A loaded (or missing) optional package. */
export interface OptionalDependency<M> {
  readonly packageName: string
  /**
   * The package's module; throws a {@link MissingPackageError} naming `usedBy` and the package when it
   * could not be loaded.
   */
  get(usedBy: string): M
  /** Throws what `get` would throw: a connector calls it when it is built, so a missing client fails early. */
  check(usedBy: string): void
}

/**
 * A connector needs a package that is not installed, or that fails to load; `option` is the
 * connector (`kafkaSource`), `value` the package name.
 *
 * @example
 * new MissingPackageError('kafkaSource', 'kafkajs', cause).message
 * // 'kafkaSource needs the package kafkajs, which is not installed: npm install kafkajs …'
 */
export class MissingPackageError extends ConfigError {
  constructor(usedBy: string, packageName: string, cause: unknown) {
    super(usedBy, packageName, `the package ${packageName} installed`)
    this.message = notFound(packageName, cause)
      ? `${usedBy} needs the package ${packageName}, which is not installed: npm install ${packageName} ` +
        '(the clients of connectors are optional peer dependencies of sluice)'
      : `${usedBy} needs the package ${packageName}, which could not be loaded: ${messageOf(cause)}`
    this.cause = cause
  }
}

/**
 * Loads an optional package with `import()` from sluice's own location (so it resolves as any of
 * sluice's dependencies would). Never rejects: a failed load is kept and reported by `get`.
 *
 * @example
 * const kafkajs = await optionalDependency<typeof import('kafkajs')>('kafkajs')
 * const { Kafka } = kafkajs.get('kafkaSource') // MissingPackageError when kafkajs is not installed
 */
export async function optionalDependency<M>(
  packageName: string,
  load: (packageName: string) => Promise<unknown> = (name) => import(name),
): Promise<OptionalDependency<M>> {
  try {
    const module = (await load(packageName)) as M
    return { packageName, get: () => module, check: () => {} }
  } catch (error) {
    const fail = (usedBy: string): never => {
      throw new MissingPackageError(usedBy, packageName, error)
    }
    return { packageName, get: fail, check: fail }
  }
}

/** The package itself is absent (not one of its own imports). */
function notFound(packageName: string, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && messageOf(error).includes(`'${packageName}'`)
  )
}
