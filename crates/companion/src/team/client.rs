//! The client of a team server's seat API (`team-api`'s shapes): join, the seat's profile,
//! dial, transfer, hang up, the directory, the team phonebook, colleagues and availability, and
//! (for admins) the team's routing.
//!
//! Every action has one ceiling ([`ACTION_CEILING`]) and is sent exactly once: a dial that
//! timed out may have happened, and dialling again could ring the customer twice. A server that
//! does not answer is [`CompanionError::RelayUnreachable`]; a refusal carries the server's own
//! reason; a revoked seat is [`CompanionError::SeatRevoked`].

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use team_api::{
    ActionDone, Availability, AvailabilityAnswer, AvailabilityRequest, Colleagues, ContactSaved,
    DialAnswer, DialRequest, Directory, ErrorBody, HangUpRequest, JoinAnswer, JoinRequest,
    PhonebookChanges, SeatCredential, SeatProfile, TeamContactDraft, TeamErrorCode, TeamRouting,
    TransferRequest,
};
use url::Url;

use crate::error::CompanionError;

/// How long an action (dial, transfer, hang up) and a read may take, all told.
pub const ACTION_CEILING: Duration = Duration::from_secs(3);

/// How long the join exchange may take.
pub const JOIN_CEILING: Duration = Duration::from_secs(10);

/// A seat's client of its team server.
#[derive(Debug, Clone)]
pub struct TeamClient {
    base: Url,
    credential: SeatCredential,
    http: reqwest::Client,
}

impl TeamClient {
    /// A client of `server` (a base URL already checked by `team_api::JoinLink`) as the seat
    /// holding `credential`.
    pub fn new(server: &str, credential: SeatCredential) -> Result<Self, CompanionError> {
        let base = parse_base(server)?;
        Ok(TeamClient {
            http: http_client(&base)?,
            base,
            credential,
        })
    }

    /// Exchanges an invite's one-time code for the seat's credential and profile.
    pub async fn join(server: &str, code: &str) -> Result<JoinAnswer, CompanionError> {
        let base = parse_base(server)?;
        let http = http_client(&base)?;
        let request = http.post(endpoint(&base, "team/join")).json(&JoinRequest {
            code: code.to_owned(),
        });
        exchange(request, JOIN_CEILING).await
    }

    /// The seat's profile as the server has it now.
    pub async fn me(&self) -> Result<SeatProfile, CompanionError> {
        self.get("team/me").await
    }

    /// Dials `number` from `workplace` (absent: the seat's own). Sent once.
    pub async fn dial(
        &self,
        number: &str,
        workplace: Option<&str>,
    ) -> Result<DialAnswer, CompanionError> {
        self.post(
            "team/dial",
            &DialRequest {
                number: number.to_owned(),
                workplace: workplace.map(str::to_owned),
            },
        )
        .await
    }

    /// Transfers the live leg `leg` to `target`. Sent once.
    pub async fn transfer(&self, leg: &str, target: &str) -> Result<ActionDone, CompanionError> {
        self.post(
            "team/transfer",
            &TransferRequest {
                leg_id: leg.to_owned(),
                target: target.to_owned(),
            },
        )
        .await
    }

    /// Ends the live leg `leg`. Sent once.
    pub async fn hang_up(&self, leg: &str) -> Result<ActionDone, CompanionError> {
        self.post(
            "team/hangup",
            &HangUpRequest {
                leg_id: leg.to_owned(),
            },
        )
        .await
    }

    /// The team's numbers, workplaces and terminals, as the server keeps them.
    pub async fn directory(&self) -> Result<Directory, CompanionError> {
        self.get("team/directory").await
    }

    /// The team phonebook's changes after version `since` (one page; ask again from the
    /// answer's version while it says `more`).
    pub async fn contact_changes(&self, since: i64) -> Result<PhonebookChanges, CompanionError> {
        self.get(&format!("team/contacts?since={since}")).await
    }

    /// Adds a contact to the team phonebook (supervisors and admins).
    pub async fn add_contact(
        &self,
        draft: &TeamContactDraft,
    ) -> Result<ContactSaved, CompanionError> {
        self.post("team/contacts", draft).await
    }

    /// Replaces the team contact `id` (supervisors and admins).
    pub async fn edit_contact(
        &self,
        id: i64,
        draft: &TeamContactDraft,
    ) -> Result<ContactSaved, CompanionError> {
        let request = self
            .http
            .put(endpoint(&self.base, &format!("team/contacts/{id}")))
            .bearer_auth(self.credential.expose_secret())
            .json(draft);
        exchange(request, ACTION_CEILING).await
    }

    /// Deletes the team contact `id` (supervisors and admins).
    pub async fn delete_contact(&self, id: i64) -> Result<ActionDone, CompanionError> {
        let request = self
            .http
            .delete(endpoint(&self.base, &format!("team/contacts/{id}")))
            .bearer_auth(self.credential.expose_secret());
        exchange(request, ACTION_CEILING).await
    }

    /// The team's seats with their presence and availability.
    pub async fn colleagues(&self) -> Result<Colleagues, CompanionError> {
        self.get("team/colleagues").await
    }

    /// Sets this seat's availability (Available, Break or Away).
    pub async fn set_availability(
        &self,
        availability: Availability,
    ) -> Result<AvailabilityAnswer, CompanionError> {
        let request = self
            .http
            .put(endpoint(&self.base, "team/availability"))
            .bearer_auth(self.credential.expose_secret())
            .json(&AvailabilityRequest {
                availability,
                seat: None,
            });
        exchange(request, ACTION_CEILING).await
    }

    /// The team's routing rules and parked numbers (admins only).
    pub async fn routing(&self) -> Result<TeamRouting, CompanionError> {
        self.get("team/routing").await
    }

    /// Replaces the team's routing rules and parked numbers (admins only); answers what the
    /// server saved.
    pub async fn set_routing(&self, routing: &TeamRouting) -> Result<TeamRouting, CompanionError> {
        let request = self
            .http
            .put(endpoint(&self.base, "team/routing"))
            .bearer_auth(self.credential.expose_secret())
            .json(routing);
        exchange(request, ACTION_CEILING).await
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CompanionError> {
        let request = self
            .http
            .get(endpoint(&self.base, path))
            .bearer_auth(self.credential.expose_secret());
        exchange(request, ACTION_CEILING).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CompanionError> {
        let request = self
            .http
            .post(endpoint(&self.base, path))
            .bearer_auth(self.credential.expose_secret())
            .json(body);
        exchange(request, ACTION_CEILING).await
    }

    /// A `PUT` of `body` to `path`, within the one ceiling.
    pub(crate) async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CompanionError> {
        let request = self
            .http
            .put(endpoint(&self.base, path))
            .bearer_auth(self.credential.expose_secret())
            .json(body);
        exchange(request, ACTION_CEILING).await
    }
}

fn parse_base(server: &str) -> Result<Url, CompanionError> {
    let checked = team_api::JoinLink::new(server, "-")
        .map_err(|e| CompanionError::InvalidInput(e.to_string()))?;
    Url::parse(&format!("{}/", checked.server))
        .map_err(|e| CompanionError::InvalidInput(format!("{server:?}: {e}")))
}

fn endpoint(base: &Url, path: &str) -> Url {
    // `base` ends with `/` and has no path (JoinLink checked it), so joining cannot fail; the
    // base itself is the answer if it somehow did.
    base.join(path).unwrap_or_else(|_| base.clone())
}

fn http_client(base: &Url) -> Result<reqwest::Client, CompanionError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(ACTION_CEILING)
        .redirect(reqwest::redirect::Policy::none());
    // A server on this machine (tests, a relay beside the app) is not behind the proxy.
    if mtt_api::is_on_this_machine(base) {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| CompanionError::RelayUnreachable(format!("no HTTP client: {e}")))
}

/// Sends `request` once and reads its answer, all within `ceiling`.
async fn exchange<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    ceiling: Duration,
) -> Result<T, CompanionError> {
    let unreachable = |detail: String| CompanionError::RelayUnreachable(detail);
    let answer = tokio::time::timeout(ceiling, async {
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    })
    .await;
    let (status, body) = match answer {
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} s",
                ceiling.as_secs()
            )));
        }
        Ok(Err(e)) => return Err(unreachable(describe(&e))),
        Ok(Ok(answer)) => answer,
    };
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| CompanionError::TeamRefused {
            code: "bad_response".into(),
            reason: format!("the team server's answer could not be read: {e}"),
        });
    }
    Err(refusal(status, &body))
}

/// The error for a refused request, from the server's `{code, message}`.
fn refusal(status: reqwest::StatusCode, body: &[u8]) -> CompanionError {
    let Ok(error) = serde_json::from_slice::<ErrorBody>(body) else {
        return CompanionError::TeamRefused {
            code: format!("http_{}", status.as_u16()),
            reason: format!("the team server answered HTTP {status}"),
        };
    };
    match error.code {
        TeamErrorCode::SeatRevoked if error.delete_local_data => {
            CompanionError::SeatRevokedDeleteLocalData(error.message)
        }
        TeamErrorCode::SeatRevoked | TeamErrorCode::CredentialRevoked => {
            CompanionError::SeatRevoked(error.message)
        }
        code => CompanionError::TeamRefused {
            code: wire_name(code),
            reason: error.message,
        },
    }
}

/// A team code's wire name (`not_your_workplace`).
fn wire_name(code: TeamErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "refused".into())
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "it could not be connected to".into()
    } else if e.is_timeout() {
        "it did not answer in time".into()
    } else {
        e.to_string()
    }
}
