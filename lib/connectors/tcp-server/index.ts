import type { TcpServerSourceOptions } from './options.js'
import { TcpServerSource } from './source.js'

export type { ServerAddress } from '../base/server-address.js'
export type { ServerPort } from '../base/server-source.js'
export {
  type FrameDecoder,
  type FrameSink,
  FrameTooLargeError,
  LengthPrefixedFrames,
  LineFrames,
  type TcpFrame,
} from './frames.js'
export {
  tcpServerSettings,
  type TcpFraming,
  type TcpServerSettings,
  type TcpServerSourceOptions,
  type TcpSourceStats,
} from './options.js'
export { type TcpReaderHost, TcpServerReader } from './reader.js'
export { TcpServerSource } from './source.js'

/**
 * A source taking frames TCP clients send to a server the job runs; see {@link TcpServerSource}.
 *
 * @example
 * env.fromSource(tcpServerSource({ port: 9000, framing: 'length-prefixed', decoder: (f) => JSON.parse(f.toString()) }))
 */
export function tcpServerSource<T = string>(options?: TcpServerSourceOptions<T>): TcpServerSource<T> {
  return new TcpServerSource(options)
}
