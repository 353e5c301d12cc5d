//! The relay link's SSE parsing: one large event arriving in many small pieces.
//!
//! A relay event is one `data:` line; a call notification with a long forwarding list, or a
//! directory notification for a big account, can run to hundreds of kilobytes, and TCP hands it
//! over in pieces. A parser that re-reads its whole buffer on every piece costs the square of
//! the event's size; `sse-stream`, which the link uses, reads each byte once. Prints, for each
//! event size and piece size, the median time to parse the event over a few rounds.
//!
//! `cargo bench -p companion --bench sse`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program: a panic is a failed run"
)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use sse_stream::SseByteStream;

/// One event with a `data:` line of about `size` bytes, Cyrillic and ASCII as a PBX sends.
fn event(size: usize) -> Vec<u8> {
    let mut names = Vec::new();
    let mut len = 0;
    while len < size {
        let name = format!("Абонент №{} — «Рога и копыта»", names.len());
        len += name.len() + 3;
        names.push(name);
    }
    let data = serde_json::json!({"id": 1, "kind": "callNotifications", "body": {"names": names}});
    format!("id: 1:1\nevent: callNotifications\ndata: {data}\n\n").into_bytes()
}

/// The time to parse `wire` cut into `piece`-byte pieces.
async fn parse(wire: &Bytes, piece: usize) -> Duration {
    let pieces: Vec<Result<Bytes, std::io::Error>> = (0..wire.len())
        .step_by(piece)
        .map(|at| Ok(wire.slice(at..(at + piece).min(wire.len()))))
        .collect();
    let started = Instant::now();
    let mut stream = SseByteStream::new(futures::stream::iter(pieces));
    let block = stream.next().await.unwrap().unwrap();
    let took = started.elapsed();
    assert!(block.data.unwrap().len() + 64 > wire.len());
    took
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("| event | piece | median parse |");
    println!("|---|---|---|");
    for (size, piece) in [
        (64 << 10, 64),
        (256 << 10, 64),
        (256 << 10, 1 << 10),
        (1 << 20, 1 << 10),
        (1 << 20, 16 << 10),
    ] {
        let wire = Bytes::from(event(size));
        let mut times = Vec::new();
        for _ in 0..5 {
            times.push(parse(&wire, piece).await);
        }
        times.sort();
        println!(
            "| {} KiB | {} B | {:.2} ms |",
            wire.len() >> 10,
            piece,
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
}
