/** Connection and endpoint statistics, decoded from the engine's flat arrays. */

/** Counters and gauges of a connection or an endpoint (names as in `docs/api.md`). */
export interface ConnectionStats {
  datagramsIn: number;
  bytesIn: number;
  datagramsOut: number;
  bytesOut: number;
  packetsAcked: number;
  packetsTimedOut: number;
  keepAlivesSent: number;
  messagesSent: number;
  messagesReceived: number;
  messagesAcked: number;
  messagesTimedOut: number;
  messagesRetransmitted: number;
  duplicateMessages: number;
  messagesReassembled: number;
  lateAcks: number;
  dropMalformed: number;
  dropAuthFailed: number;
  dropReplay: number;
  dropBlocked: number;
  dropUnknownConnection: number;
  dropTooLarge: number;
  dropRateLimited: number;
  dropUnexpected: number;
  handshakesStarted: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  connectionsClosed: number;
  connectionsTimedOut: number;
  /** Messages not yet settled. */
  messagesPending: number;
  /** mpgameserver's latency (EWMA of half the round trip), seconds. */
  latency: number;
  /** Smoothed round-trip time, seconds. */
  srtt: number;
  /** Smallest round-trip time seen, seconds. */
  minRtt: number;
  /** Bytes held by unfinished fragmented messages. */
  reassemblyBytes: number;
  /** Packets sent and neither acknowledged nor timed out. */
  packetsInFlight: number;
  /** The `ack` this side sends: the newest packet seq received. */
  recvAck: number;
  /** The `ack_bits` this side sends. */
  recvAckBits: number;
}

/** Decodes a flat statistics array. */
export function decodeStats(names: readonly string[], flat: Float64Array): ConnectionStats {
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = flat[i];
  return out as unknown as ConnectionStats;
}

/** Total drops of every reason. */
export function totalDrops(s: ConnectionStats): number {
  return (
    s.dropMalformed + s.dropAuthFailed + s.dropReplay + s.dropBlocked + s.dropUnknownConnection +
    s.dropTooLarge + s.dropRateLimited + s.dropUnexpected
  );
}
