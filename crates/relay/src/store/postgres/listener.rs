//! The announcer: it hands every committed event, of this instance's writer or another's, to
//! this instance's [`CommitSink`], in id order, once.
//!
//! It LISTENs on the commits' channel on a connection of its own and, on each notification,
//! reads the events after the last one it announced. A notification is only a wake-up: what
//! is announced always comes from the table, so a notification lost while the connection was
//! down costs nothing: after reconnecting it reads from where it stopped. Because ids commit in
//! order ([`super::writer`]), reading "after the last announced" never skips an event that
//! commits later with a lower id.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use super::events::read_after;
use super::writer::CHANNEL;
use crate::error::RelayError;
use crate::store::{CommitSink, Epoch, EventId};

/// How many events one read takes.
const PAGE: i64 = 1000;
/// How long to wait before connecting again after the connection failed.
const RECONNECT: Duration = Duration::from_millis(500);

pub(super) struct Announcer {
    pub(super) config: tokio_postgres::Config,
    pub(super) sink: Arc<dyn CommitSink>,
    pub(super) epoch: Epoch,
    /// The last id handed to the sink.
    pub(super) announced: EventId,
}

impl Announcer {
    pub(super) async fn run(mut self, stop: CancellationToken) {
        loop {
            let outcome = tokio::select! {
                outcome = self.listen() => outcome,
                () = stop.cancelled() => return,
            };
            if let Err(err) = outcome {
                tracing::warn!(error = %err, "the postgres store's announcer lost its connection; connecting again");
            }
            tokio::select! {
                () = tokio::time::sleep(RECONNECT) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    /// One connection's life: LISTEN, catch up, then catch up again on every notification.
    async fn listen(&mut self) -> Result<(), RelayError> {
        let (client, mut connection) =
            self.config
                .connect(NoTls)
                .await
                .map_err(|source| RelayError::Postgres {
                    context: "connecting the announcer",
                    source,
                })?;
        let (wake, mut woken) = mpsc::channel::<()>(1);
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(_)) => {
                        // One pending wake-up is enough: the read takes everything new.
                        let _ = wake.try_send(());
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "the announcer's postgres connection failed");
                        break;
                    }
                }
            }
        });
        let outcome = async {
            client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .await
                .map_err(|source| RelayError::Postgres {
                    context: "listening for commits",
                    source,
                })?;
            loop {
                self.catch_up(&client).await?;
                if woken.recv().await.is_none() {
                    return Err(RelayError::PostgresPool(
                        "the announcer's connection closed".into(),
                    ));
                }
            }
        }
        .await;
        driver.abort();
        outcome
    }

    async fn catch_up(&mut self, client: &tokio_postgres::Client) -> Result<(), RelayError> {
        loop {
            let page = read_after(client, self.epoch, self.announced, PAGE).await?;
            let Some(last) = page.last_id() else {
                return Ok(());
            };
            for row in &page.unreadable {
                tracing::error!(id = row.id.0, reason = %row.reason, "a stored event cannot be read; it is not streamed");
            }
            if !page.events.is_empty() {
                self.sink.committed(&page.events);
            }
            self.announced = last;
            if (page.rows() as i64) < PAGE {
                return Ok(());
            }
        }
    }
}
