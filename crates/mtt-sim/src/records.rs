//! Call recordings: `urlRecord` points here, at `/records/<id>.mp3` on the API server.
//!
//! Every recording is the same short, real, playable MP3 (a spoken Russian phrase, about
//! 2.3 seconds, 7 KB; made once with espeak-ng, sox and lame and committed as a fixture), served
//! as `audio/mpeg` with single-range `Range` support so a player can seek.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::sync::lock;

/// The recording every call gets.
pub const RECORDING_MP3: &[u8] = include_bytes!("../fixtures/recording.mp3");

/// Recordings remembered; the oldest are forgotten first, as MTT forgets them after 90 days.
const KEPT_RECORDINGS: usize = 100_000;

/// The recordings the simulator has announced.
#[derive(Debug, Default)]
pub(crate) struct Recordings {
    known: HashSet<String>,
    order: VecDeque<String>,
}

impl Recordings {
    pub(crate) fn insert(&mut self, id: String) {
        if self.order.len() >= KEPT_RECORDINGS
            && let Some(oldest) = self.order.pop_front()
        {
            self.known.remove(&oldest);
        }
        self.known.insert(id.clone());
        self.order.push_back(id);
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.known.contains(id)
    }
}

/// The answer to `GET /records/<file>`: the recording, whole or the range asked for, if the
/// simulator announced it.
pub(crate) fn serve(records: &Mutex<Recordings>, file: &str, headers: &HeaderMap) -> Response {
    let known = file
        .strip_suffix(".mp3")
        .is_some_and(|id| lock(records).contains(id));
    if !known {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_record",
            format!("there is no recording {file:?}"),
        )
        .into_response();
    }
    let total = RECORDING_MP3.len();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let Some(range) = range else {
        return (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg")),
                (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
            ],
            RECORDING_MP3,
        )
            .into_response();
    };
    match parse_range(range, total) {
        Some((start, end)) => {
            let content_range = format!("bytes {start}-{end}/{total}");
            let mut response = (
                StatusCode::PARTIAL_CONTENT,
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg")),
                    (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
                ],
                RECORDING_MP3.get(start..=end).unwrap_or_default(),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&content_range) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            response
        }
        None => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            response
        }
    }
}

/// A single `bytes=` range as inclusive offsets, or `None` if unsatisfiable or unsupported.
fn parse_range(value: &str, total: usize) -> Option<(usize, usize)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || total == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: usize = suffix.parse().ok()?;
            if n == 0 {
                return None;
            }
            (total.saturating_sub(n), total - 1)
        }
        (s, "") => (s.parse().ok()?, total - 1),
        (s, e) => (s.parse().ok()?, e.parse::<usize>().ok()?.min(total - 1)),
    };
    (start <= end && start < total).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn the_fixture_is_an_mp3() {
        // An MPEG audio frame starts with eleven set sync bits (or the file with an ID3 tag).
        let head = RECORDING_MP3.get(..3).unwrap();
        assert!(head == b"ID3" || (head[0] == 0xFF && head[1] & 0xE0 == 0xE0));
        assert!(RECORDING_MP3.len() > 1_000);
    }
}
