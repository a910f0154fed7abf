/**
 * The built-in connectors: collections and iterables, files and directories, sockets, printing, and
 * the bucketing file sink. Each connector also has its own entry under `sluice/connectors/<name>`.
 */
export * from './collections/index.js'
export * from './files/index.js'
export * from './socket/index.js'
export * from './print/index.js'
