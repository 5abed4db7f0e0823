import { createSecretKey, type KeyObject } from 'node:crypto';
import { ACK_TIMEOUT_MS, HEADER_SIZE, TAG_SIZE } from './constants.js';
import { WireError, type WireErrorCode } from './errors.js';
import { writePacket } from './datagram.js';
import { checkFits, framedLength, readMessages, type Message } from './framing.js';
import { readHeader, type PacketHeader } from './header.js';
import { openInto, sealInto } from './protect.js';
import { seqDiff, seqNext } from './seq.js';
import { SeqWindow } from './window.js';
import type { EndpointStats } from '../lib/impl.js';

/** Options of one connection. */
export interface ConnectionOptions {
  /** The 16-byte session key (both directions). */
  key: Uint8Array;
  /** Server side (receives `FSOS`, sends `FSOC`) or client side. */
  isServer: boolean;
  /** Pending packets older than this are timed out when acks are processed (default 1000 ms). */
  ackTimeoutMs?: number;
}

/** A packet sent and not yet acked or timed out. */
interface PendingPacket {
  sentAt: number;
  firstMessageSeq: number;
  messageCount: number;
}

/**
 * Counters of one connection: the suites' per-connection counters, but for those the plain
 * adapter reads from the connection's state (pending packets, packet window, latency).
 */
export type ConnectionStats = Omit<EndpointStats, 'pending' | 'ack' | 'ackBits' | 'latencyMs'>;

/** Why `receive` dropped a datagram. */
export type DropCode = WireErrorCode | 'ERR_DUPLICATE';

/** What `receive` returns. */
export type ReceiveResult =
  | { ok: true; header: PacketHeader; messages: Message[] }
  | { ok: false; code: DropCode };

/**
 * One end of an established session: the per-datagram send and receive paths of mpgameserver's
 * connection, without the timers, queues and retries around them.
 *
 * Send: assign the packet seq and message seqs, frame, seal, remember the packet until it is acked.
 * Receive: parse the header, open, insert into the packet window, process the acks against the
 * pending packets, parse the messages, drop duplicate messages.
 */
export class PlainConnection {
  readonly isServer: boolean;
  readonly packetWindow = new SeqWindow(32);
  readonly messageWindow = new SeqWindow(256);
  /** EWMA of rtt/2 in seconds (spec §8). */
  latency = 0;
  readonly stats: ConnectionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    dropped: 0,
    duplicatePackets: 0,
    duplicateMessages: 0,
    messagesDelivered: 0,
    acked: 0,
    timedOut: 0,
  };
  /** Last packet seq sent (0 before the first). */
  packetSeq = 0;
  /** Last message seq assigned. */
  messageSeq = 0;
  private readonly key: KeyObject;
  private readonly ackTimeoutMs: number;
  private readonly pending = new Map<number, PendingPacket>();

  constructor(options: ConnectionOptions) {
    this.key = createSecretKey(options.key);
    this.isServer = options.isServer;
    this.ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
  }

  /** Packets sent and not yet acked or timed out. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Bytes of the datagram that would carry `messages`. */
  static datagramLength(messages: readonly { data: Uint8Array }[]): number {
    return HEADER_SIZE + framedLength(messages) + TAG_SIZE;
  }

  /**
   * Builds and seals the next datagram carrying `messages` (none: a KEEP_ALIVE) into `out` at
   * `offset`, and returns its length. Each message's `seq` is set to the message seq it got.
   * @throws WireError `ERR_TOO_LARGE` when the messages do not fit one packet
   */
  sendInto(messages: Message[], nowMs: number, out: Buffer, offset = 0): number {
    const length = framedLength(messages);
    checkFits(messages.length, length);
    this.packetSeq = seqNext(this.packetSeq);
    const firstMessageSeq = seqNext(this.messageSeq);
    for (const m of messages) {
      this.messageSeq = seqNext(this.messageSeq);
      m.seq = this.messageSeq;
    }
    writePacket(out, offset, {
      toServer: !this.isServer,
      ctime: Math.floor(nowMs / 1000),
      seq: this.packetSeq,
      ack: this.packetWindow.current,
      ackBits: this.packetWindow.bits32,
    }, messages);
    const n = sealInto(this.key, out, offset, length, out, offset);
    this.pending.set(this.packetSeq, { sentAt: nowMs, firstMessageSeq, messageCount: messages.length });
    this.stats.packetsSent++;
    return n;
  }

  /** Like `sendInto`, into a new Buffer. */
  send(messages: Message[], nowMs: number): Buffer {
    const out = Buffer.allocUnsafe(PlainConnection.datagramLength(messages));
    this.sendInto(messages, nowMs, out, 0);
    return out;
  }

  /**
   * Processes the datagram `buf[offset, offset + length)`. Its plaintext (header ‖ payload) is
   * written to `plain` at `plainOffset`; the messages returned are views into it. Returns the
   * new (non-duplicate) messages, or why the datagram was dropped. A dropped datagram changes
   * nothing but the counters.
   */
  receiveInto(buf: Buffer, offset: number, length: number, nowMs: number, plain: Buffer, plainOffset: number): ReceiveResult {
    let header: PacketHeader;
    let messages: Message[];
    try {
      header = readHeader(buf, this.isServer, offset, length);
      const end = openInto(this.key, buf, offset, length, plain, plainOffset);
      messages = readMessages(plain.subarray(plainOffset + HEADER_SIZE, plainOffset + end), header.count, header.type);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.stats.dropped++;
      return { ok: false, code: err.code };
    }
    if (!this.packetWindow.insert(header.seq)) {
      this.stats.duplicatePackets++;
      return { ok: false, code: 'ERR_DUPLICATE' };
    }
    this.stats.packetsReceived++;
    this.processAcks(header.ack, header.ackBits, nowMs);
    const fresh: Message[] = [];
    for (const m of messages) {
      if (this.messageWindow.insert(m.seq)) fresh.push(m);
      else this.stats.duplicateMessages++;
    }
    this.stats.messagesDelivered += fresh.length;
    return { ok: true, header, messages: fresh };
  }

  /** Like `receiveInto`, decrypting into a new Buffer. */
  receive(datagram: Buffer, nowMs: number): ReceiveResult {
    return this.receiveInto(datagram, 0, datagram.length, nowMs, Buffer.allocUnsafe(datagram.length), 0);
  }

  /**
   * Walks the pending packets against a received header's ack/ack_bits (spec §8): acked ones leave
   * (and feed the latency EWMA), ones older than the timeout time out. Returns the acked seqs.
   */
  processAcks(ack: number, ackBits: number, nowMs: number): number[] {
    const acked: number[] = [];
    for (const [seq, p] of this.pending) {
      const d = seqDiff(ack, seq);
      if (d === 0 || (d >= 1 && d <= 32 && (ackBits & (0x80000000 >>> (d - 1))) !== 0)) {
        this.pending.delete(seq);
        acked.push(seq);
        this.stats.acked++;
        const rtt = (nowMs - p.sentAt) / 1000;
        this.latency += 0.1 * (rtt / 2 - this.latency);
      } else if (nowMs - p.sentAt > this.ackTimeoutMs) {
        this.pending.delete(seq);
        this.stats.timedOut++;
      }
    }
    return acked;
  }

  /** Records a packet as pending without sending it (tests of the ack processing). */
  trackPending(seq: number, sentAt: number): void {
    this.pending.set(seq, { sentAt, firstMessageSeq: 0, messageCount: 0 });
  }

  /** Seqs of the pending packets. */
  pendingSeqs(): number[] {
    return [...this.pending.keys()];
  }
}
