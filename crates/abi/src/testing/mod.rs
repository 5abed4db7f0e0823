//! Entry points for tests and benchmarks only (feature `testing`; the released bindings are built
//! without it, and a check in the test suite fails if a shipped binary exposes any of them):
//!
//! * [`batch`]: the codec and AES-GCM over batches of datagrams, without connection state, for the
//!   micro-benchmarks that compare the per-datagram paths with plain Node.js;
//! * `FlatEngine::danger_establish`: a connection keyed without a handshake.

pub mod batch;
