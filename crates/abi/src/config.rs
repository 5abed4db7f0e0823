//! The configuration as a flat `f64` array in [`CONFIG_FIELDS`] order (seconds for durations).

use core::time::Duration;

use gamewire_core::{Config, ConfigError};

use crate::tables::CONFIG_FIELDS;

fn secs(field: &'static str, v: f64) -> Result<Duration, ConfigError> {
    if v.is_finite() && (0.0..=86_400.0).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(ConfigError { field, message: format!("must be a number of seconds from 0 to 86400, got {v}") })
    }
}

fn count(field: &'static str, v: f64) -> Result<usize, ConfigError> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9.007_199_254_740_991e15 {
        Ok(v as usize)
    } else {
        Err(ConfigError { field, message: format!("must be a whole number, got {v}") })
    }
}

/// Reads the flat array in order, naming each field in its errors.
struct Fields<'a> {
    values: &'a [f64],
    at: usize,
}

impl Fields<'_> {
    fn next(&mut self) -> (&'static str, f64) {
        let i = self.at;
        self.at += 1;
        (CONFIG_FIELDS[i], self.values[i])
    }
    fn secs(&mut self) -> Result<Duration, ConfigError> {
        let (n, v) = self.next();
        secs(n, v)
    }
    fn count(&mut self) -> Result<usize, ConfigError> {
        let (n, v) = self.next();
        count(n, v)
    }
    fn count_u32(&mut self) -> Result<u32, ConfigError> {
        let (n, v) = self.next();
        let c = count(n, v)?;
        u32::try_from(c)
            .map_err(|_| ConfigError { field: n, message: format!("must be at most {}", u32::MAX) })
    }
}

/// Reads a configuration from its flat form and validates it.
pub fn config_from_flat(f: &[f64]) -> Result<Config, ConfigError> {
    if f.len() != CONFIG_FIELDS.len() {
        return Err(ConfigError {
            field: "config",
            message: format!("expected {} values, got {}", CONFIG_FIELDS.len(), f.len()),
        });
    }
    let mut r = Fields { values: f, at: 0 };
    // Field by field in CONFIG_FIELDS order (struct fields are evaluated in the order written).
    let cfg = Config {
        send_interval: r.secs()?,
        keep_alive_interval: r.secs()?,
        message_timeout: r.secs()?,
        connection_timeout: r.secs()?,
        temp_connection_timeout: r.secs()?,
        handshake_retransmit: r.secs()?,
        connect_timeout: r.secs()?,
        max_datagram: r.count()?,
        max_connections: r.count()?,
        max_pending_handshakes: r.count()?,
        handshakes_per_second: r.count_u32()?,
        handshake_queue: r.count()?,
        handshake_queue_per_source: r.count()?,
        message_window: r.count()?,
        packet_window: r.count()?,
        max_ctime_age: r.secs()?,
        max_message_size: r.count()?,
        max_reassembly_bytes_per_connection: r.count()?,
        max_reassembly_bytes_total: r.count()?,
        max_queued_messages: r.count()?,
        unix_millis_at_zero: r.count()? as u64,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The flat form of a configuration.
pub fn config_to_flat(c: &Config) -> Vec<f64> {
    vec![
        c.send_interval.as_secs_f64(),
        c.keep_alive_interval.as_secs_f64(),
        c.message_timeout.as_secs_f64(),
        c.connection_timeout.as_secs_f64(),
        c.temp_connection_timeout.as_secs_f64(),
        c.handshake_retransmit.as_secs_f64(),
        c.connect_timeout.as_secs_f64(),
        c.max_datagram as f64,
        c.max_connections as f64,
        c.max_pending_handshakes as f64,
        f64::from(c.handshakes_per_second),
        c.handshake_queue as f64,
        c.handshake_queue_per_source as f64,
        c.message_window as f64,
        c.packet_window as f64,
        c.max_ctime_age.as_secs_f64(),
        c.max_message_size as f64,
        c.max_reassembly_bytes_per_connection as f64,
        c.max_reassembly_bytes_total as f64,
        c.max_queued_messages as f64,
        c.unix_millis_at_zero as f64,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat form round-trips, field by field, so the two functions cannot disagree on order.
    #[test]
    fn round_trip_every_field() {
        let base = config_to_flat(&Config::default());
        assert_eq!(base.len(), CONFIG_FIELDS.len());
        for i in 0..base.len() {
            let mut f = base.clone();
            // A value distinct per field that every field accepts.
            f[i] = match CONFIG_FIELDS[i] {
                n if n.ends_with("Window") => 128.0,
                "sendInterval" => 0.5,
                _ => base[i] + 1.0,
            };
            let back = config_to_flat(&config_from_flat(&f).unwrap());
            assert_eq!(back, f, "field {}", CONFIG_FIELDS[i]);
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let mut f = config_to_flat(&Config::default());
        f[crate::tables::config_index("handshakeQueue").unwrap()] = 1.5;
        assert_eq!(config_from_flat(&f).unwrap_err().field, "handshakeQueue");
    }
}
