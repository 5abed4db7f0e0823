// Generated from crates/abi/src/tables.rs by `GAMEWIRE_UPDATE_ABI=1 cargo test -p gamewire-abi generated_typescript`.
// Do not edit: `cargo test` fails when this file and the Rust tables differ, and the loader
// refuses a binding whose tables differ from these.

/** Every table as the bindings report it (`layout()`), for the load-time check. */
export const ABI_JSON = "{\"code\":[[\"OK\",0,\"ok\"],[\"UNKNOWN_CONNECTION\",-1,\"unknown-connection\"],[\"NOT_CONNECTED\",-2,\"not-connected\"],[\"TOO_LARGE\",-3,\"too-large\"],[\"QUEUE_FULL\",-4,\"queue-full\"],[\"NOT_A_CLIENT\",-5,\"not-a-client\"],[\"NO_PINNED_KEY\",-6,\"no-pinned-key\"],[\"ALREADY_CONNECTED\",-7,\"already-connected\"],[\"TOO_MANY_CONNECTIONS\",-8,\"too-many-connections\"],[\"BAD_RETRY_MODE\",-9,\"bad-retry-mode\"],[\"BAD_KEY\",-10,\"bad-key\"]],\"eventKind\":[[\"CONNECTED\",1,\"connected\"],[\"MESSAGE\",2,\"message\"],[\"ACKED\",3,\"acked\"],[\"FAILED\",4,\"failed\"],[\"DISCONNECTED\",5,\"disconnected\"],[\"RELEASED\",6,\"released\"],[\"TRANSMIT\",7,\"transmit\"]],\"closeReason\":[[\"LOCAL\",1,\"local\"],[\"PEER\",2,\"peer\"],[\"TIMED_OUT\",3,\"timeout\"],[\"CONNECT_TIMEOUT\",4,\"connect-timeout\"],[\"BAD_SERVER_KEY\",5,\"bad-server-key\"],[\"TRANSPORT_CLOSED\",6,\"transport-closed\"]],\"dropReason\":[[\"ACCEPTED\",0,\"accepted\"],[\"MALFORMED\",1,\"malformed\"],[\"AUTH_FAILED\",2,\"auth-failed\"],[\"REPLAY\",3,\"replay\"],[\"BLOCKED\",4,\"blocked\"],[\"UNKNOWN_CONNECTION\",5,\"unknown-connection\"],[\"TOO_LARGE\",6,\"too-large\"],[\"RATE_LIMITED\",7,\"rate-limited\"],[\"UNEXPECTED\",8,\"unexpected\"]],\"headerError\":[[\"OK\",0,\"OK\"],[\"TOO_SHORT\",1,\"ERR_HEADER_TOO_SHORT\"],[\"UNKNOWN_TYPE\",2,\"ERR_HEADER_UNKNOWN_TYPE\"],[\"BAD_MAGIC\",3,\"ERR_HEADER_BAD_MAGIC\"],[\"WRONG_DIRECTION\",4,\"ERR_HEADER_WRONG_DIRECTION\"]],\"peerStatus\":[[\"NONE\",0,\"none\"],[\"CONNECTING\",1,\"connecting\"],[\"CONNECTED\",2,\"connected\"],[\"DISCONNECTING\",3,\"disconnecting\"]],\"retryMode\":[[\"RETRY_ON_TIMEOUT\",-1,\"RETRY_ON_TIMEOUT\"],[\"NONE\",0,\"NONE\"],[\"BEST_EFFORT\",1,\"BEST_EFFORT\"]],\"connectionStatus\":[[\"CONNECTING\",1,\"CONNECTING\"],[\"CONNECTED\",2,\"CONNECTED\"],[\"DISCONNECTING\",3,\"DISCONNECTING\"],[\"DISCONNECTED\",4,\"DISCONNECTED\"],[\"DROPPED\",5,\"DROPPED\"]],\"layout\":[[\"EVENT_HEAD\",16,\"eventHead\"],[\"SEND_HEAD\",16,\"sendHead\"],[\"IN_META_FIELDS\",4,\"inMetaFields\"],[\"TRANSMIT_META\",12,\"transmitMeta\"],[\"DATAGRAM_ROOM\",2048,\"datagramRoom\"],[\"HEADER_FIELDS\",8,\"headerFields\"]],\"config\":[\"sendInterval\",\"keepAliveInterval\",\"messageTimeout\",\"connectionTimeout\",\"tempConnectionTimeout\",\"handshakeRetransmit\",\"connectTimeout\",\"maxDatagram\",\"maxConnections\",\"maxPendingHandshakes\",\"handshakesPerSecond\",\"handshakeQueue\",\"handshakeQueuePerSource\",\"messageWindow\",\"packetWindow\",\"maxCtimeAge\",\"maxMessageSize\",\"maxReassemblyBytesPerConnection\",\"maxReassemblyBytesTotal\",\"maxQueuedMessages\",\"unixMillisAtZero\"],\"stats\":[\"datagramsIn\",\"bytesIn\",\"datagramsOut\",\"bytesOut\",\"packetsAcked\",\"packetsTimedOut\",\"keepAlivesSent\",\"messagesSent\",\"messagesReceived\",\"messagesAcked\",\"messagesTimedOut\",\"messagesRetransmitted\",\"duplicateMessages\",\"messagesReassembled\",\"lateAcks\",\"dropMalformed\",\"dropAuthFailed\",\"dropReplay\",\"dropBlocked\",\"dropUnknownConnection\",\"dropTooLarge\",\"dropRateLimited\",\"dropUnexpected\",\"handshakesStarted\",\"handshakesCompleted\",\"handshakesFailed\",\"connectionsClosed\",\"connectionsTimedOut\",\"messagesPending\",\"latency\",\"srtt\",\"minRtt\",\"reassemblyBytes\",\"packetsInFlight\",\"recvAck\",\"recvAckBits\"]}";

/** Result codes of engine commands (`send`, `connect`, …): 0 or negative. */
export const CODE = {
  /** Done. */
  OK: 0,
  /** No connection with that peer. */
  UNKNOWN_CONNECTION: -1,
  /** The connection cannot carry application messages (handshake or closing). */
  NOT_CONNECTED: -2,
  /** The message is larger than the configured maximum. */
  TOO_LARGE: -3,
  /** The connection's send queue is full. */
  QUEUE_FULL: -4,
  /** Not a client endpoint. */
  NOT_A_CLIENT: -5,
  /** No pinned server key and no explicit insecure opt-in. */
  NO_PINNED_KEY: -6,
  /** Already connected to that peer. */
  ALREADY_CONNECTED: -7,
  /** The connection limit is reached. */
  TOO_MANY_CONNECTIONS: -8,
  /** Not a retry mode. */
  BAD_RETRY_MODE: -9,
  /** A pinned key that is not a P-256 SPKI. */
  BAD_KEY: -10,
} as const;

/** Kinds of the records of the flat event stream. */
export const EV = {
  /** A handshake completed; `a` = session token. */
  CONNECTED: 1,
  /** An application message; `a` = its sequence number, followed by `len` bytes. */
  MESSAGE: 2,
  /** A message with a callback was acknowledged; `a` = the callback id. */
  ACKED: 3,
  /** A message with a callback was given up; `a` = the callback id. */
  FAILED: 4,
  /** An established connection ended; `a` = a close reason code. */
  DISCONNECTED: 5,
  /** No state is held for the peer any more: the host may forget the peer id. */
  RELEASED: 6,
  /** A datagram for a peer whose transport the host owns (`len` bytes follow). */
  TRANSMIT: 7,
} as const;

export type CloseReason = 'local' | 'peer' | 'timeout' | 'connect-timeout' | 'bad-server-key' | 'transport-closed';

export const CLOSE_REASONS: Readonly<Record<number, CloseReason>> = {
  1: 'local',
  2: 'peer',
  3: 'timeout',
  4: 'connect-timeout',
  5: 'bad-server-key',
  6: 'transport-closed',
};

export type DropReasonName = 'accepted' | 'malformed' | 'auth-failed' | 'replay' | 'blocked' | 'unknown-connection' | 'too-large' | 'rate-limited' | 'unexpected';

export const DROP_REASONS: Readonly<Record<number, DropReasonName>> = {
  0: 'accepted',
  1: 'malformed',
  2: 'auth-failed',
  3: 'replay',
  4: 'blocked',
  5: 'unknown-connection',
  6: 'too-large',
  7: 'rate-limited',
  8: 'unexpected',
};

/** A peer's state as `status(peer)` reports it. */
export const PEER_STATUS = {
  /** No connection. */
  NONE: 0,
  /** Handshake in progress. */
  CONNECTING: 1,
  /** Established. */
  CONNECTED: 2,
  /** Closing. */
  DISCONNECTING: 3,
} as const;

/** Sizes of the flat records, in bytes (or `u32` fields where named so). */
export const LAYOUT = {
  /** An event record's head: kind, peer, a, len (u32 LE each), then `len` bytes padded to 4. */
  eventHead: 16,
  /** A send record's head: peer, mode (i32), callback, len (u32 LE each), then the message padded to 4. */
  sendHead: 16,
  /** A received datagram's descriptor in `handle`'s meta array: peer, offset, len, source (u32 fields). */
  inMetaFields: 4,
  /** A transmit descriptor in the out-meta array: peer, offset, len (u32 LE each). */
  transmitMeta: 12,
  /** Room one datagram takes in the input and output buffers. */
  datagramRoom: 2048,
  /** Fields of a flat header. */
  headerFields: 8,
} as const;

/** Results of decoding a header (0 = ok); the JavaScript name is the error code it throws. */
export const HEADER_ERRORS: Readonly<Record<number, readonly [code: string, message: string]>> = {
  1: ["ERR_HEADER_TOO_SHORT", "datagram shorter than the 20-byte header"],
  2: ["ERR_HEADER_UNKNOWN_TYPE", "unknown packet type"],
  3: ["ERR_HEADER_BAD_MAGIC", "invalid magic number"],
  4: ["ERR_HEADER_WRONG_DIRECTION", "direction error"],
};

/** Names of the flat configuration array, in order (seconds for durations). */
export const CONFIG_FIELDS = ["sendInterval", "keepAliveInterval", "messageTimeout", "connectionTimeout", "tempConnectionTimeout", "handshakeRetransmit", "connectTimeout", "maxDatagram", "maxConnections", "maxPendingHandshakes", "handshakesPerSecond", "handshakeQueue", "handshakeQueuePerSource", "messageWindow", "packetWindow", "maxCtimeAge", "maxMessageSize", "maxReassemblyBytesPerConnection", "maxReassemblyBytesTotal", "maxQueuedMessages", "unixMillisAtZero"] as const;

/** Names of the flat statistics array: the counters, then the gauges. */
export const STATS_FIELDS = ["datagramsIn", "bytesIn", "datagramsOut", "bytesOut", "packetsAcked", "packetsTimedOut", "keepAlivesSent", "messagesSent", "messagesReceived", "messagesAcked", "messagesTimedOut", "messagesRetransmitted", "duplicateMessages", "messagesReassembled", "lateAcks", "dropMalformed", "dropAuthFailed", "dropReplay", "dropBlocked", "dropUnknownConnection", "dropTooLarge", "dropRateLimited", "dropUnexpected", "handshakesStarted", "handshakesCompleted", "handshakesFailed", "connectionsClosed", "connectionsTimedOut", "messagesPending", "latency", "srtt", "minRtt", "reassemblyBytes", "packetsInFlight", "recvAck", "recvAckBits"] as const;

/** mpgameserver's RetryMode values (the `mode` of a send). */
export enum RetryMode {
  /** Re-sent until acknowledged, for as long as the connection lives. */
  RETRY_ON_TIMEOUT = -1,
  /** Sent once. */
  NONE = 0,
  /** Re-sent every keep-alive interval until acknowledged or the message timeout passes. */
  BEST_EFFORT = 1,
}

/** mpgameserver's ConnectionStatus values. */
export enum ConnectionStatus {
  /** Handshake in progress. */
  CONNECTING = 1,
  /** Established. */
  CONNECTED = 2,
  /** Closing. */
  DISCONNECTING = 3,
  /** Ended normally. */
  DISCONNECTED = 4,
  /** Ended by a timeout. */
  DROPPED = 5,
}
