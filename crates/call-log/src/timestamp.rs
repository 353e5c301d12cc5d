//! Times as the database stores them: microseconds since the Unix epoch, UTC.

use chrono::{DateTime, Utc};

/// An instant as stored.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored instant; one out of chrono's range reads as the epoch.
pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or(DateTime::UNIX_EPOCH)
}
