//! The simulator's shared state, handed to every server and to every call's task.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio_util::sync::CancellationToken;

use crate::account::Account;
use crate::auth_store::AuthStore;
use crate::calls::CallRegistry;
use crate::clock::Clock;
use crate::config::{MethodFault, OAuthSettings, Secret, SimConfig, Timings};
use crate::error::SimError;
use crate::leg_requests::LegRequestLog;
use crate::records::Recordings;
use crate::sync::lock;
use crate::webhook::{Outgoing, WebhookSender};
use crate::wire::{CallInfo, CallNotification, Notification, PbxEventType, PbxNotification};

/// Where the three servers can be reached.
#[derive(Debug, Clone, Default)]
pub struct SimUrls {
    /// Base of `/oauth/authorize` and `/oauth/token`.
    pub oauth: String,
    /// Base of `/externalNumbersInfo` etc. and `/records/…`.
    pub api: String,
    /// Base of the control API.
    pub control: String,
}

/// Shared state; cheap to clone. This is the `state` of [`crate::router`].
#[derive(Debug, Clone)]
pub struct SimState(pub(crate) Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) urls: SimUrls,
    pub(crate) rng: Mutex<StdRng>,
    pub(crate) account: Mutex<Account>,
    pub(crate) timings: Mutex<Timings>,
    pub(crate) faults: Mutex<BTreeMap<String, MethodFault>>,
    pub(crate) auth: Mutex<AuthStore>,
    /// How codes and tokens are issued now; starts as the configuration's.
    pub(crate) oauth: Mutex<OAuthSettings>,
    /// The client secret the token endpoint takes now; starts as the configuration's (the
    /// cabinet can issue a new one).
    pub(crate) client_secret: Mutex<Secret>,
    pub(crate) calls: Mutex<CallRegistry>,
    pub(crate) records: Mutex<Recordings>,
    pub(crate) webhooks: WebhookSender,
    pub(crate) shutdown: CancellationToken,
    pub(crate) traffic: Mutex<Option<CancellationToken>>,
    pub(crate) leg_requests: Mutex<LegRequestLog>,
}

impl SimState {
    /// Builds the state and starts the webhook lanes. Must be called inside a tokio runtime.
    /// `urls` are the public bases the servers will have (used for `urlRecord`).
    pub fn new(config: SimConfig, clock: Arc<dyn Clock>, urls: SimUrls) -> Result<Self, SimError> {
        config.validate()?;
        let shutdown = CancellationToken::new();
        let base = config
            .webhook_url
            .clone()
            .or_else(|| config.client.redirect_uris.first().cloned())
            .unwrap_or_default();
        let webhooks = WebhookSender::start(&config.webhook, &base, &shutdown)?;
        Ok(Self(Arc::new(Shared {
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            account: Mutex::new(Account::from_config(&config.account)),
            timings: Mutex::new(config.timings.clone()),
            faults: Mutex::new(config.faults.clone()),
            auth: Mutex::new(AuthStore::default()),
            oauth: Mutex::new(config.oauth_settings()),
            client_secret: Mutex::new(config.client.client_secret.clone()),
            calls: Mutex::new(CallRegistry::default()),
            records: Mutex::new(Recordings::default()),
            traffic: Mutex::new(None),
            leg_requests: Mutex::new(LegRequestLog::default()),
            config,
            clock,
            urls,
            webhooks,
            shutdown,
        })))
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.0.clock
    }

    /// The current account.
    pub fn account(&self) -> Account {
        lock(&self.0.account).clone()
    }

    /// Current timings.
    pub fn timings(&self) -> Timings {
        lock(&self.0.timings).clone()
    }

    /// Replaces the timings.
    pub fn set_timings(&self, timings: Timings) {
        *lock(&self.0.timings) = timings;
    }

    /// How codes and tokens are issued now.
    pub fn oauth_settings(&self) -> OAuthSettings {
        lock(&self.0.oauth).clone()
    }

    /// Changes how codes and tokens are issued from now on; those already issued keep their
    /// expiry.
    pub fn set_oauth_settings(&self, settings: OAuthSettings) -> Result<(), SimError> {
        settings.validate()?;
        *lock(&self.0.oauth) = settings;
        Ok(())
    }

    /// Stops every task the state started (webhook lanes, calls, traffic).
    pub fn stop(&self) {
        self.0.shutdown.cancel();
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    pub(crate) fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut lock(&self.0.rng))
    }

    /// Queues a call notification on the call's lane.
    pub(crate) fn emit_call(&self, call_key: u64, info: CallInfo) {
        let state = info.state.as_str().to_owned();
        let call_id = Some(info.call.id.clone());
        let notification = Notification::Call(Box::new(CallNotification { call_info: info }));
        self.emit(call_key, "callNotifications", call_id, state, &notification);
    }

    /// Queues a settings notification.
    pub(crate) fn emit_pbx(&self, event_type: PbxEventType) {
        let state = match event_type {
            PbxEventType::NumbersChanged => "numbersChanged",
            PbxEventType::WorkplacesChanged => "workplacesChanged",
        };
        let notification = Notification::Pbx(PbxNotification { event_type });
        self.emit(
            0,
            "vpbxNotifications",
            None,
            state.to_owned(),
            &notification,
        );
    }

    fn emit(
        &self,
        lane_key: u64,
        event: &'static str,
        call_id: Option<String>,
        state: String,
        notification: &Notification,
    ) {
        match serde_json::to_vec(notification) {
            Ok(body) => self.0.webhooks.send(
                lane_key,
                Outgoing {
                    event,
                    call_id,
                    state,
                    body: Bytes::from(body),
                },
            ),
            Err(e) => tracing::error!(error = %e, "a notification could not be serialised"),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` in Moscow time, without a zone, as the PBX writes `startTime`.
pub(crate) fn moscow_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_moscow_local_without_zone() {
        let t = DateTime::parse_from_rfc3339("2020-06-24T12:01:45Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(moscow_time(t), "2020-06-24 15:01:45");
    }
}
