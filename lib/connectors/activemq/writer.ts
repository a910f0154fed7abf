import type { IFrame, StompHeaders } from '@stomp/stompjs'
import type { SinkWriterContext } from '../../runtime/sink.js'
import { ConfirmingWriter } from '../base/confirming-writer.js'
import { closeStomp, openStomp, type StompSession } from './connection.js'
import type { ActiveMQSinkSettings } from './options.js'

const NUDGE_MS = 4

/** A SEND as the writer keeps it until its RECEIPT arrives. */
interface Outgoing {
  readonly body: string | Uint8Array
  readonly headers: StompHeaders
}

/**
 * The writer of {@link ActiveMQSink} on the {@link ConfirmingWriter}: one STOMP connection, each SEND
 * with a receipt whose id is its sequence number on the connection.
 *
 * @example
 * const writer = new ActiveMQSink<string>({ destination: '/queue/out' }).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.flush()
 */
export class ActiveMQSinkWriter<T> extends ConfirmingWriter<T, Outgoing, StompSession> {
  private readonly persistent: StompHeaders

  constructor(
    private readonly settings: ActiveMQSinkSettings<T>,
    context: SinkWriterContext,
  ) {
    super('activemq', settings, context)
    this.persistent = settings.persistent ? { persistent: 'true' } : {}
    this.connect()
  }

  protected toMessage(value: T): Outgoing {
    const { settings } = this
    const headers =
      settings.headers === undefined ? this.persistent : { ...settings.headers(value), ...this.persistent }
    return { body: settings.serializer(value), headers }
  }

  /** Resolves when the broker has receipted every message written so far. */
  override flush(): Promise<void> {
    const done = super.flush()
    if (this.window.size === 0) return done
    // While nothing else is sent, an EOL heart-beat every few ms carries the TCP acknowledgement the
    // broker's Nagle algorithm waits for before it sends the last RECEIPTs (else up to a delayed-ACK
    // timeout, 40 ms on Linux, per barrier).
    const nudge = setInterval(() => {
      try {
        this.current?.client.webSocket?.send('\n')
      } catch {
        // the connection is closing
      }
    }, NUDGE_MS)
    done.then(
      () => clearInterval(nudge),
      () => clearInterval(nudge),
    )
    return done
  }

  protected isLost(session: StompSession): boolean {
    return session.lost
  }

  protected closeSession(session: StompSession): Promise<void> {
    return closeStomp(session)
  }

  protected async open(): Promise<StompSession> {
    const session = await openStomp(this.settings)
    session.onLost = (cause) => this.lost(session, cause)
    // Receipt ids are the messages' sequence numbers on this connection.
    session.client.onUnhandledReceipt = (frame: IFrame) => {
      if (!session.lost) this.window.confirm(Number(frame.headers['receipt-id']), false)
    }
    return session
  }

  protected send(session: StompSession, message: Outgoing, seq: number): boolean {
    const receipt = String(seq)
    const { body } = message
    try {
      session.client.publish(
        typeof body === 'string'
          ? { destination: this.settings.destination, headers: { ...message.headers, receipt }, body }
          : { destination: this.settings.destination, headers: { ...message.headers, receipt }, binaryBody: body },
      )
    } catch {
      return false // the connection is closing: the message is still unreceipted and goes out on the next one
    }
    return true
  }
}
