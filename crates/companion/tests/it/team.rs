//! Team mode in the core: joining a real relay with an invite, the seat's stream until the
//! seat is revoked, and the seat API's answers (a refusal's reason, a server that does not
//! answer, a revoked seat) against a small stand-in that follows `team-api`'s shapes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{TimeDelta, Utc};
use companion::{
    Companion, CompanionError, DomainEvent, ErrorCode, JoinOffer, MemoryVault, Profile,
    ProfileSecrets, SecretVault, TeamState,
};
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
use serde_json::json;
use team_api::Role;

use crate::team_seats;
use crate::wait_for;

const WORKPLACE: &str = "883140582526566";

struct Desk {
    vault: Arc<MemoryVault>,
    profile: Profile,
    _dir: tempfile::TempDir,
}

/// A profile in personal mode: a client secret and tokens in the keyring, and this app the
/// router.
fn personal_desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let profile =
        Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    let mut settings = profile.load_settings().unwrap();
    settings.router = true;
    profile.save_settings(&settings).unwrap();
    let vault = Arc::new(MemoryVault::default());
    let secrets = ProfileSecrets::new(vault.clone() as Arc<dyn SecretVault>, profile.name());
    secrets
        .set_client_secret(&mtt_api::ClientSecret::new("personal-secret"))
        .unwrap();
    vault.set("work/tokens", "={\"access\":\"t\"}").unwrap();
    Desk {
        vault,
        profile,
        _dir: dir,
    }
}

impl Desk {
    fn open(&self) -> Companion {
        Companion::open(
            self.profile.clone(),
            self.vault.clone() as Arc<dyn SecretVault>,
        )
        .unwrap()
    }
}

/// Anna's seat and invite, as `trubka-relay seats add` and `seats invite` make them.
async fn invite(relay: &relay::RelayHandle) -> (i64, String) {
    let invited = team_seats::invite(relay, "Anna", WORKPLACE, Role::Operator).await;
    (invited.seat, invited.link)
}

#[tokio::test]
async fn joining_a_relay_moves_from_personal_mode_and_a_revoked_seat_stops_the_app() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let (seat, link) = invite(&relay).await;
    let desk = personal_desk();
    let core = desk.open();
    assert_eq!(core.team_state(), TeamState::None);

    let offer = JoinOffer::read(&link, None).unwrap();
    assert_eq!(offer.host(), relay.local_addr().to_string());
    let report = core.join_team(&offer).await.unwrap();
    assert!(report.removed_personal_secrets);
    assert!(report.stopped_routing);
    assert!(report.kept_history);
    assert_eq!(report.seat.workplace, WORKPLACE);
    assert_eq!(report.seat.role, "operator");

    // The seat's credential is the only secret left; no client secret, no tokens.
    let secrets = core.secrets();
    let credential = secrets.seat_credential().unwrap().unwrap();
    assert!(credential.expose_secret().starts_with("tks_"));
    assert!(secrets.client_secret().unwrap().is_none());
    assert_eq!(desk.vault.get("work/tokens").unwrap(), None);
    let settings = core.settings();
    assert!(!settings.router);
    assert_eq!(settings.workplace.as_deref(), Some(WORKPLACE));
    let team = settings.team.unwrap();
    assert_eq!(team.seat.name, "Anna");
    // Nothing secret in the settings file.
    let file = std::fs::read_to_string(desk.profile.settings_path()).unwrap();
    assert!(!file.contains(credential.expose_secret()), "{file}");
    assert_eq!(core.team_state(), TeamState::Joined);
    // The server describes the seat now (`trubka team status` asks it so).
    let seat_now = core.check_team().await.unwrap().unwrap();
    assert_eq!(seat_now.name, "Anna");
    // A second join while in the team is refused before anything is sent.
    let again = desk.open().join_team(&offer).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::InvalidInput, "{again}");

    // The link streams with the seat's credential, until the admin revokes the seat.
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    wait_for(
        &mut events,
        "the link connected",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;
    relay
        .state()
        .team
        .revoke_seat(SeatRef::Id(seat))
        .await
        .unwrap();
    wait_for(
        &mut events,
        "the link revoked",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "revoked"),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while core.team_state() != TeamState::Revoked {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the core marks the seat revoked");
    assert!(core.secrets().seat_credential().unwrap().is_none());
    let refused = core.dial("+79219462761", None).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SeatRevoked, "{refused}");
    // The revocation is remembered for the next start (the CLI shows it).
    assert_eq!(desk.open().team_state(), TeamState::Revoked);
    core.shutdown().await;
}

/// What the stand-in answers a dial with.
#[derive(Clone, Copy, PartialEq)]
enum DialAnswers {
    Accept,
    Refuse,
    Hang,
    Revoked,
}

#[derive(Clone)]
struct StandIn {
    dial: DialAnswers,
    dials: Arc<AtomicUsize>,
}

const CREDENTIAL: &str = "tks_1_standin";

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {CREDENTIAL}"))
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

/// A team server that follows `team-api`'s documented shapes, answering dials as told.
async fn stand_in(dial: DialAnswers) -> (String, Arc<AtomicUsize>) {
    let state = StandIn {
        dial,
        dials: Arc::default(),
    };
    let dials = Arc::clone(&state.dials);
    let app = axum::Router::new()
        .route(
            "/team/join",
            post(|| async {
                Json(json!({
                    "credential": CREDENTIAL,
                    "seat": { "id": 7, "name": "Anna", "role": "operator", "workplace": WORKPLACE },
                }))
            }),
        )
        .route(
            "/team/dial",
            post(
                |State(s): State<StandIn>,
                 headers: HeaderMap,
                 Json(body): Json<team_api::DialRequest>| async move {
                    s.dials.fetch_add(1, Ordering::SeqCst);
                    if !authorised(&headers) {
                        return refuse(StatusCode::UNAUTHORIZED, "unauthorized", "who are you");
                    }
                    match s.dial {
                        DialAnswers::Accept => Json(json!({
                            "legId": format!("leg-{}", body.number),
                            "workplace": body.workplace.unwrap_or_else(|| WORKPLACE.into()),
                            "auditId": 1,
                        }))
                        .into_response(),
                        DialAnswers::Refuse => refuse(
                            StatusCode::FORBIDDEN,
                            "not_your_workplace",
                            "an operator dials only from their own workplace (883140582526566)",
                        ),
                        DialAnswers::Hang => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            StatusCode::OK.into_response()
                        }
                        DialAnswers::Revoked => refuse(
                            StatusCode::UNAUTHORIZED,
                            "seat_revoked",
                            "the seat was revoked",
                        ),
                    }
                },
            ),
        )
        .route(
            "/team/hangup",
            post(|Json(_): Json<team_api::HangUpRequest>| async {
                refuse(
                    StatusCode::FORBIDDEN,
                    "not_your_call",
                    "this call does not touch your workplace",
                )
            }),
        )
        .route(
            "/team/transfer",
            post(|Json(_): Json<team_api::TransferRequest>| async {
                Json(json!({ "auditId": 2 }))
            }),
        )
        .route(
            "/team/directory",
            get(|| async {
                Json(json!({
                    "numbers": [{ "number": "78005560251", "kind": null }],
                    "workplaces": [{ "workplace": WORKPLACE, "name": "Anna" }],
                    "terminals": [],
                    "fetchedAt": "2026-12-01T10:00:00Z",
                }))
            }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, dials)
}

async fn joined(dial: DialAnswers) -> (Desk, Companion, Arc<AtomicUsize>) {
    let (base, dials) = stand_in(dial).await;
    let desk = personal_desk();
    let core = desk.open();
    let offer = JoinOffer::read("ABCD-EFGH", Some(&base)).unwrap();
    core.join_team(&offer).await.unwrap();
    (desk, core, dials)
}

#[tokio::test]
async fn actions_go_to_the_team_server_and_a_refusal_carries_its_reason() {
    let (_desk, core, dials) = joined(DialAnswers::Accept).await;
    let (target, placed) = core.dial("8 921 946-27-61", None).await.unwrap();
    assert_eq!(target.callee.as_str(), "79219462761");
    assert_eq!(placed.id.as_str(), "leg-79219462761");
    assert_eq!(dials.load(Ordering::SeqCst), 1);
    core.transfer("leg-1", "883140582526567").await.unwrap();
    let directory = core.refresh_directory().await.unwrap();
    assert_eq!(directory.workplaces[0].name, "Anna");
    let refused = core.hang_up("leg-1").await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TeamRefused);
    assert!(
        refused
            .to_string()
            .contains("this call does not touch your workplace"),
        "{refused}"
    );

    let (_desk, core, _) = joined(DialAnswers::Refuse).await;
    let refused = core.dial("+79219462761", None).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TeamRefused);
    match &refused {
        CompanionError::TeamRefused { code, reason } => {
            assert_eq!(code, "not_your_workplace");
            assert!(reason.contains("own workplace"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(core.team_state(), TeamState::Joined);
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_relay_unreachable_and_the_dial_is_sent_once() {
    let (_desk, core, dials) = joined(DialAnswers::Hang).await;
    // The ceiling is 3 s; the test waits far longer and never asserts speed.
    let failed = tokio::time::timeout(Duration::from_secs(30), core.dial("+79219462761", None))
        .await
        .expect("the dial gives up within its ceiling")
        .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::RelayUnreachable, "{failed}");
    assert!(
        failed
            .to_string()
            .contains("the team server is unreachable — dial from your phone"),
        "{failed}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(dials.load(Ordering::SeqCst), 1, "never sent again");

    // A server that is not there at all.
    let desk = personal_desk();
    let core = desk.open();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let offer = JoinOffer::read("ABCD", Some(&format!("http://127.0.0.1:{port}"))).unwrap();
    let failed = core.join_team(&offer).await.unwrap_err();
    assert_eq!(failed.code(), ErrorCode::RelayUnreachable, "{failed}");
    // Nothing was changed by a join that did not happen.
    assert_eq!(core.team_state(), TeamState::None);
    assert!(core.secrets().client_secret().unwrap().is_some());
}

#[tokio::test]
async fn an_action_answered_seat_revoked_stops_the_app_acting_for_the_team() {
    let (_desk, core, dials) = joined(DialAnswers::Revoked).await;
    let failed = core.dial("+79219462761", None).await.unwrap_err();
    assert_eq!(failed.code(), ErrorCode::SeatRevoked, "{failed}");
    assert_eq!(core.team_state(), TeamState::Revoked);
    assert!(core.secrets().seat_credential().unwrap().is_none());
    let again = core.dial("+79219462761", None).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::SeatRevoked);
    assert_eq!(
        dials.load(Ordering::SeqCst),
        1,
        "a revoked seat sends nothing"
    );
    // Leaving after a revocation returns the app to personal mode.
    core.leave_team(false).await.unwrap();
    assert_eq!(core.team_state(), TeamState::None);
}

#[tokio::test]
async fn leaving_clears_the_seat_and_deletes_the_teams_history_only_when_asked() {
    for delete in [false, true] {
        let (desk, core, _) = joined(DialAnswers::Accept).await;
        core.log()
            .add_contact(call_log::NewContact {
                name: "A customer of the team".into(),
                numbers: vec!["79219462761".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let report = core.leave_team(delete).await.unwrap();
        assert_eq!(report.deleted_contacts, u64::from(delete));
        assert_eq!(core.team_state(), TeamState::None);
        assert!(core.secrets().seat_credential().unwrap().is_none());
        assert!(desk.open().settings().team.is_none());
        let left = core.log().contacts(None, 10).await.unwrap().len();
        assert_eq!(left, usize::from(!delete));
        let twice = core.leave_team(delete).await.unwrap_err();
        assert_eq!(twice.code(), ErrorCode::InvalidInput);
    }
}

/// One incoming call to the seat's workplace, as the PBX notifies it.
fn call_to_the_seat(state: &str) -> serde_json::Value {
    json!({"event":"callNotifications","result":{"callInfo":{
        "call":{"id":"team-leg-1","tag":"t"},
        "caller":{"accountId":"79219462761","id":"79219462761","displayName":"Клиент"},
        "callee":{"accountId":WORKPLACE,"id":WORKPLACE},
        "state":state,"transportId":"10.133.33.136:5073","type":"incoming"
    }}})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seat_revoked_with_delete_local_data_deletes_the_teams_history_and_says_so() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let (seat, link) = invite(&relay).await;
    let desk = personal_desk();
    let core = desk.open();
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    wait_for(
        &mut events,
        "the link connected",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;
    // A call reaches the seat through the team's server and is in the history.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for state in ["trying", "finished"] {
        let url = format!("{}/events", relay.redirect_uri().expose_secret());
        let answer = http
            .post(url)
            .json(&call_to_the_seat(state))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    wait_for(&mut events, "the call to end", |e| {
        matches!(e, DomainEvent::CallEnded { .. })
    })
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while core.log().call("team-leg-1").await.unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the call in the history");

    // The admin revokes the seat asking for the team's data to go (`seats revoke
    // --delete-local-data`): the app learns it from the stream, deletes and says so.
    relay
        .state()
        .team
        .revoke_seat_asking(SeatRef::Id(seat), true)
        .await
        .unwrap();
    let said = wait_for(
        &mut events,
        "the app to say it deleted the history",
        |e| matches!(e, DomainEvent::Trouble { message, .. } if message.contains("deleted")),
    )
    .await;
    let DomainEvent::Trouble { code, message } = said else {
        unreachable!()
    };
    assert_eq!(code, ErrorCode::SeatRevoked);
    assert!(message.contains("1 call(s)"), "{message}");
    assert!(core.log().call("team-leg-1").await.unwrap().is_none());
    assert_eq!(core.team_state(), TeamState::Revoked);
    core.shutdown().await;
}

#[tokio::test]
async fn a_seat_revoked_without_the_wish_keeps_the_history_and_an_old_style_answer() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let (seat, link) = invite(&relay).await;
    let desk = personal_desk();
    let core = desk.open();
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    let credential = core.secrets().seat_credential().unwrap().unwrap();
    relay
        .state()
        .team
        .revoke_seat(SeatRef::Id(seat))
        .await
        .unwrap();
    // The relay's answer carries no wish (an older app reads it as before).
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer: serde_json::Value = http
        .get(format!("http://{}/team/me", relay.local_addr()))
        .bearer_auth(credential.expose_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["code"], "seat_revoked");
    assert!(answer.get("deleteLocalData").is_none(), "{answer}");
    let refused = core.check_team().await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SeatRevoked);
    assert_eq!(core.team_state(), TeamState::Revoked);
    core.shutdown().await;
}

#[tokio::test]
async fn in_a_team_the_app_never_decides_and_journals_the_relays_decisions_for_history() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let (_seat, link) = invite(&relay).await;
    let desk = personal_desk();
    let core = desk.open();
    let offer = JoinOffer::read(&link, None).unwrap();
    let report = core.join_team(&offer).await.unwrap();
    assert!(report.stopped_routing);
    // Joining turned the router off, and it stays off: not deciding, asking to be the router
    // is refused, and an app opened again on the profile does not decide either.
    assert!(!core.is_deciding());
    assert!(!core.parking_state().is_router);
    let refused = core.set_is_router(true).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput, "{refused}");
    assert!(!core.is_deciding());
    let reopened = desk.open();
    assert!(!reopened.is_deciding());
    assert!(!reopened.settings().router);
    drop(reopened);

    // The relay decides and streams its decision; the app journals it for History.
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    wait_for(
        &mut events,
        "the link connected",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;
    let entry = call_log::RoutingDecision {
        leg: "park-7".into(),
        caller_number: Some("79161112233".into()),
        line_number: Some("74996497803".into()),
        rule: Some("manager".into()),
        target: Some(WORKPLACE.into()),
        outcome: call_log::RoutingOutcome::Transferred,
        detail: Some("decided by the relay".into()),
        decided_at: Utc::now(),
        took_ms: 31,
        deadline_ms: 4_000,
    };
    let body = serde_json::to_string(&team_api::RoutingDecisionEvent {
        id: 1,
        entry: entry.clone(),
    })
    .unwrap();
    let event =
        relay::store::IncomingNotification::new(team_api::ROUTING_KIND.into(), body).unwrap();
    relay.state().store.append(event).await.unwrap();
    wait_for(
        &mut events,
        "the relay's decision announced",
        |e| matches!(e, DomainEvent::Routed { outcome } if outcome.leg == "park-7"),
    )
    .await;
    let journal = core.routing_journal(10).await.unwrap();
    assert_eq!(journal.decisions.len(), 1, "{journal:?}");
    let why = core.routing_reason("park-7").await.unwrap().unwrap();
    assert_eq!(
        (why.rule.as_deref(), why.target.as_deref()),
        (Some("manager"), Some(WORKPLACE))
    );
    assert!(why.met_deadline);
    core.shutdown().await;
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_admin_edits_the_teams_routing_rules_through_the_server_and_an_operator_may_not() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let state = relay.state();
    let admin_seat = state
        .team
        .add_seat(NewSeat {
            name: "Boss".into(),
            workplace: "883140777446532".into(),
            role: Role::Admin,
        })
        .await
        .unwrap()
        .profile
        .id;
    let code = InviteCode::generate().unwrap();
    state
        .team
        .add_invite(
            SeatRef::Id(admin_seat),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let link = team_api::JoinLink::new(
        &format!("http://{}", relay.local_addr()),
        &code.expose_secret(),
    )
    .unwrap();
    let desk = personal_desk();
    let admin = desk.open();
    admin
        .join_team(&JoinOffer::read(&link.to_string(), None).unwrap())
        .await
        .unwrap();
    let before = admin.team_routing().await.unwrap().unwrap();
    assert_eq!(before.settings.deadline_ms, 4_000);
    let saved = admin
        .set_team_routing(
            Some("deadline_ms = 2500\nrules = [{ kind = \"manager\" }]\n"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(saved.settings.deadline_ms, 2_500);
    assert_eq!(relay.state().routing.routing().settings.deadline_ms, 2_500);
    // A wrong rule is named before anything is sent.
    let wrong = admin
        .set_team_routing(Some("deadline_ms = 9000\n"), None)
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("deadline_ms"), "{wrong}");

    // An operator's app is refused by the server.
    let (_seat, link) = invite(&relay).await;
    let operator_desk = personal_desk();
    let operator = operator_desk.open();
    operator
        .join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    let refused = operator.team_routing().await.unwrap_err();
    assert!(refused.to_string().contains("admin"), "{refused}");
    relay.shutdown().await.unwrap();
}
