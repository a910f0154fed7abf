import { createConnection, type Socket } from 'node:net'
import type { Client, IFrame } from '@stomp/stompjs'
import type { TCPWrapper } from '@stomp/tcp-wrapper'
import { Deferred } from '../../util/deferred.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import type { StompSettings } from './options.js'

/** The STOMP client and its TCP transport, optional peer dependencies: the source and sink check for them when built. */
export const stompPackages = [
  await optionalDependency<typeof import('@stomp/stompjs')>('@stomp/stompjs'),
  await optionalDependency<typeof import('@stomp/tcp-wrapper')>('@stomp/tcp-wrapper'),
] as const

/** One STOMP connection over TCP; `lost` turns true once, when it is gone. */
export interface StompSession {
  readonly client: Client
  lost: boolean
  /** Called once when an established connection is gone (socket closed, ERROR frame, heart-beat lost). */
  onLost: ((cause: Error) => void) | undefined
  /** Resolves with the cause when the connection is gone or closed. */
  readonly whenLost: Promise<Error>
}

/**
 * TCPWrapper with Nagle's algorithm off: an ACK or SEND that waits for its RECEIPT must leave at once,
 * not sit behind the previous segment until the broker's delayed ACK (about 40 ms on Linux). The class
 * is made on first use: its base class comes from an optional package.
 */
function noDelayTcpWrapper(host: string, port: number): TCPWrapper {
  NoDelayTCPWrapper ??= class extends stompPackages[1].get('activemq connector').TCPWrapper {
    protected override getSocket(port: number, host: string): Socket {
      const socket = createConnection(port, host).setNoDelay(true)
      // called from the base constructor, before a field of this class could be set
      sockets.set(this, socket)
      return socket
    }
  }
  return new NoDelayTCPWrapper(host, port)
}
let NoDelayTCPWrapper: typeof TCPWrapper | undefined
/** The TCP socket under each wrapper, for {@link corked}. */
const sockets = new WeakMap<object, Socket>()

/**
 * Runs `write` with the connection's socket corked, so that the frames it sends leave together in full
 * TCP segments rather than one small segment each (Nagle is off). Many small segments fill a receiver's
 * buffer with per-segment overhead long before its window closes; the kernel then prunes and drops
 * them, and the sender's retransmission backoff stalls the connection (seen with ActiveMQ, whose STOMP
 * transport reads nothing while its dispatch thread is blocked writing).
 *
 * @example
 * corked(session, () => { for (const id of ids) session.client.ack(id, subscriptionId) })
 */
export function corked(session: StompSession, write: () => void): void {
  const socket = session.client.webSocket === undefined ? undefined : sockets.get(session.client.webSocket)
  socket?.cork()
  try {
    write()
  } finally {
    socket?.uncork()
  }
}

const CLOSE_TIMEOUT_MS = 2000
const lostMarkers = new WeakMap<StompSession, Deferred<Error>>()
const pendingReceipts = new WeakMap<StompSession, Set<(cause: Error) => void>>()

/**
 * Opens a STOMP connection with `@stomp/stompjs` over `@stomp/tcp-wrapper` (ActiveMQ's STOMP transport
 * speaks plain TCP; Debian's ActiveMQ has no AMQP 1.0 and no WebSocket transport). The client's own
 * reconnection is off: the connectors reconnect with their {@link ReconnectLoop}, a new client each
 * time, so that acknowledgement handles of a lost connection are never used on the next one.
 * Resolves on CONNECTED; rejects with the ERROR frame's message or the socket error when the
 * connection closes first.
 *
 * @example
 * const session = await openStomp({ host: '127.0.0.1', port: 61613, connectHeaders: {}, heartbeatMs: 10_000, retry })
 * session.onLost = (cause) => reconnect(cause)
 */
export function openStomp(settings: StompSettings): Promise<StompSession> {
  return new Promise<StompSession>((resolve, reject) => {
    const client = new (stompPackages[0].get('activemq connector').Client)({
      webSocketFactory: () => noDelayTcpWrapper(settings.host, settings.port),
      connectHeaders: settings.connectHeaders,
      reconnectDelay: 0,
      connectionTimeout: settings.retry.connectTimeoutMs,
      heartbeatIncoming: settings.heartbeatMs,
      heartbeatOutgoing: settings.heartbeatMs,
      debug: () => {},
    })
    const whenLost = new Deferred<Error>()
    const session: StompSession = { client, lost: false, onLost: undefined, whenLost: whenLost.promise }
    lostMarkers.set(session, whenLost)
    let connected = false
    let lastError: Error | undefined
    client.onConnect = () => {
      connected = true
      resolve(session)
    }
    client.onStompError = (frame: IFrame) => {
      lastError = new Error(
        `STOMP ERROR ${frame.headers.message ?? ''}${frame.body === '' ? '' : `: ${frame.body.trim().split('\n')[0]}`}`,
      )
      // ActiveMQ closes the connection after most errors; make sure it is closed after every one.
      client.forceDisconnect()
    }
    client.onWebSocketError = (event: { message?: unknown }) => {
      lastError = event?.message instanceof Error ? event.message : new Error(String(event?.message ?? 'socket error'))
    }
    client.onWebSocketClose = () => {
      void client.deactivate({ force: true })
      if (!connected) {
        reject(lastError ?? new Error('connection closed before STOMP CONNECTED'))
        return
      }
      const cause = lastError ?? new Error('connection closed')
      whenLost.resolve(cause)
      if (session.lost) return
      session.lost = true
      session.onLost?.(cause)
    }
    client.activate()
  })
}

/**
 * Disconnects (DISCONNECT, then the socket closes); a broker that does not answer within 2 s gets the
 * socket closed under it. Marks the session lost first, so that its `onLost` does not fire.
 *
 * @example
 * await closeStomp(session)
 */
export async function closeStomp(session: StompSession): Promise<void> {
  session.lost = true
  lostMarkers.get(session)?.resolve(new Error('connection closed'))
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)
  })
  try {
    const outcome = await Promise.race([session.client.deactivate().catch(() => undefined), timedOut])
    if (outcome === 'timeout') await session.client.deactivate({ force: true }).catch(() => undefined)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Sends `send(receiptId)` — a frame carrying that `receipt` header — and resolves when the broker's
 * RECEIPT for it arrives: the broker has processed it and every frame before it on this connection.
 * Rejects when the connection is lost first.
 *
 * @example
 * await receipted(session, 'sub-1', (receipt) => session.client.subscribe(destination, onMessage, { receipt }))
 */
export function receipted(session: StompSession, receiptId: string, send: (receiptId: string) => void): Promise<void> {
  if (session.lost) return Promise.reject(new Error('connection closed'))
  let waiting = pendingReceipts.get(session)
  if (waiting === undefined) {
    const set = new Set<(cause: Error) => void>()
    pendingReceipts.set(session, set)
    void session.whenLost.then((cause) => {
      for (const reject of set) reject(cause)
      set.clear()
    })
    waiting = set
  }
  const pending = waiting
  return new Promise<void>((resolve, reject) => {
    pending.add(reject)
    session.client.watchForReceipt(receiptId, () => {
      pending.delete(reject)
      resolve()
    })
    send(receiptId)
  })
}
