//! The ack/retry window: receive windows (replay and de-duplication, and the ack bits they put on
//! the wire) and the record of packets sent and awaiting acknowledgement.

pub mod replay;
pub mod sent;

pub use replay::{Insert, ReplayWindow};
pub use sent::{Rtt, SentPackets};
