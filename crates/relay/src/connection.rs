//! The relay's connections: the accept loop with its per-connection limits, and connections
//! that the relay can cut off.
//!
//! The loop serves HTTP/1.1 with hyper's own connection builder rather than `axum::serve`, which
//! takes no settings, so that a connection must send each request's headers within
//! `header_read_timeout` — the first request's as much as an idle keep-alive connection's next
//! one — or be closed. (hyper-util's auto-detecting builder was not used because its HTTP/2
//! sniffing waits for the first bytes with no timeout at all; the relay sits behind a TLS proxy
//! that speaks HTTP/1.1 to it, and SSE needs nothing more.)
//!
//! A stream client that stops reading makes hyper stop polling its response body, so the body
//! itself can never notice that it fell behind. The fan-out notices (the client's bounded
//! queue is full) and pulls the [`Cutoff`] of that client's connection: the connection's next
//! read or write fails, and hyper drops it. Without this, a stalled client would hold its
//! socket and queue for as long as the peer's TCP stack cares to keep it open.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::serve::Listener;
use futures::task::AtomicWaker;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// The switch that ends one connection.
#[derive(Debug, Default)]
pub struct Cutoff {
    pulled: AtomicBool,
    waker: AtomicWaker,
}

impl Cutoff {
    /// Ends the connection: its pending and future reads and writes fail.
    pub fn pull(&self) {
        self.pulled.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn is_pulled(&self) -> bool {
        self.pulled.load(Ordering::Acquire)
    }

    /// Runs an I/O poll unless the switch is pulled; a pending poll registers for a wake-up when
    /// it is pulled.
    fn guard<T>(
        &self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if self.is_pulled() {
            return Poll::Ready(Err(cut_off()));
        }
        let result = poll(cx);
        if result.is_pending() {
            self.waker.register(cx.waker());
            if self.is_pulled() {
                return Poll::Ready(Err(cut_off()));
            }
        }
        result
    }
}

fn cut_off() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the stream client fell behind and was cut off",
    )
}

/// What a handler learns about its connection (axum's `ConnectInfo`).
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client's address (the TLS proxy's, behind one).
    pub remote: SocketAddr,
    /// The connection's switch.
    pub cutoff: Arc<Cutoff>,
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then waits for the open requests
/// to finish (streams and long polls end on the same signal). Every request carries its
/// connection's [`Peer`] as `ConnectInfo`.
pub(crate) async fn serve(
    mut listener: CutoffListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer.clone()));
            app.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            // A peer that vanished or timed out is routine; nothing to report above debug.
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A TCP listener whose connections each carry a [`Cutoff`].
#[derive(Debug)]
pub struct CutoffListener(TcpListener);

impl CutoffListener {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener) -> Self {
        Self(listener)
    }
}

impl Listener for CutoffListener {
    type Io = CutoffStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, remote)) => {
                    // Small SSE frames and webhook answers should leave at once.
                    let _ = stream.set_nodelay(true);
                    let cutoff = Arc::new(Cutoff::default());
                    return (
                        CutoffStream {
                            inner: stream,
                            cutoff: Arc::clone(&cutoff),
                        },
                        Peer { remote, cutoff },
                    );
                }
                Err(err) if is_connection_error(&err) => {}
                Err(err) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::error!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Peer {
            remote: self.0.local_addr()?,
            cutoff: Arc::new(Cutoff::default()),
        })
    }
}

fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A TCP stream that fails once its [`Cutoff`] is pulled.
#[derive(Debug)]
pub struct CutoffStream {
    inner: TcpStream,
    cutoff: Arc<Cutoff>,
}

impl AsyncRead for CutoffStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        this.cutoff
            .guard(cx, |cx| Pin::new(inner).poll_read(cx, buf))
    }
}

impl AsyncWrite for CutoffStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        this.cutoff
            .guard(cx, |cx| Pin::new(inner).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        this.cutoff
            .guard(cx, |cx| Pin::new(inner).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        this.cutoff.guard(cx, |cx| Pin::new(inner).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Shutting down a cut-off connection is exactly what should happen: let it through.
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
