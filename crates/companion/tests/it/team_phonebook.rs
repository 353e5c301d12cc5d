//! The team phonebook between a real relay and real cores: an edit on the relay reaches a
//! connected app's call log, an app that was closed catches up when it starts again, operators
//! cannot change team contacts, a supervisor edits them from the app, and leaving the team
//! takes them away. Every wait has a generous ceiling; how fast is BENCHMARKS.md's business.

use std::sync::Arc;
use std::time::Duration;

use crate::team_seats;
use companion::{Companion, ErrorCode, JoinOffer, MemoryVault, Profile, SecretVault};
use serde_json::{Value, json};
use team_api::Role;

const CEILING: Duration = Duration::from_secs(30);
const ANNA: &str = "883140582526566";
const BORIS: &str = "883140582526567";
const SERGEY: &str = "883140777446532";

struct Desk {
    vault: Arc<MemoryVault>,
    profile: Profile,
    _dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let profile =
            Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
        Desk {
            vault: Arc::new(MemoryVault::default()),
            profile,
            _dir: dir,
        }
    }

    fn open(&self) -> Companion {
        Companion::open(
            self.profile.clone(),
            self.vault.clone() as Arc<dyn SecretVault>,
        )
        .unwrap()
    }
}

fn base(relay: &relay::RelayHandle) -> String {
    format!("http://{}", relay.local_addr())
}

/// A seat and its invite link, as `trubka-relay seats add` and `seats invite` make them.
async fn invite(
    relay: &relay::RelayHandle,
    name: &str,
    workplace: &str,
    role: Role,
) -> (String, String) {
    let invited = team_seats::invite(relay, name, workplace, role).await;
    (invited.link, invited.code)
}

/// A desk whose app joined the team with a new seat and streams.
async fn joined_app(
    relay: &relay::RelayHandle,
    name: &str,
    workplace: &str,
    role: Role,
) -> (Desk, Companion) {
    let desk = Desk::new();
    let core = desk.open();
    let (link, _) = invite(relay, name, workplace, role).await;
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    core.start_live_events().await.unwrap();
    (desk, core)
}

/// A supervisor's credential for editing through the seat API directly.
async fn supervisor_credential(relay: &relay::RelayHandle, http: &reqwest::Client) -> String {
    let (_, code) = invite(relay, "Сергей", SERGEY, Role::Supervisor).await;
    let answer: Value = http
        .post(format!("{}/team/join", base(relay)))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["credential"].as_str().unwrap().to_owned()
}

async fn edit(
    http: &reqwest::Client,
    relay: &relay::RelayHandle,
    credential: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request = http
        .request(method, format!("{}{path}", base(relay)))
        .bearer_auth(credential);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Waits until `number`'s contact in `core`'s call log is named `name` (`None`: no contact).
async fn contact_becomes(core: &Companion, number: &str, name: Option<&str>) {
    let deadline = tokio::time::Instant::now() + CEILING;
    loop {
        let found = core.log().contact_for_number(number).await.unwrap();
        if found.as_ref().map(|c| c.name.as_str()) == name {
            if let Some(contact) = found {
                assert!(contact.team_id.is_some(), "{contact:?}");
            }
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{number}: {found:?}, expected {name:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_on_the_relay_reaches_a_connected_app_and_a_closed_one_when_it_starts() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let supervisor = supervisor_credential(&relay, &http).await;
    let before = edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::POST,
        "/team/contacts",
        Some(json!({"name": "До вступления", "numbers": ["+7 921 000-00-01"]})),
    )
    .await;
    let before_id = before["contact"]["id"].as_i64().unwrap();

    // Joining syncs what the team had already.
    let (_anna_desk, anna) = joined_app(&relay, "Анна", ANNA, Role::Operator).await;
    let (boris_desk, boris) = joined_app(&relay, "Борис", BORIS, Role::Operator).await;
    contact_becomes(&anna, "79210000001", Some("До вступления")).await;
    contact_becomes(&boris, "79210000001", Some("До вступления")).await;
    boris.shutdown().await;
    drop(boris);

    // Edits on the relay reach the connected app.
    let added = edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::POST,
        "/team/contacts",
        Some(json!({"name": "Иван Петров", "company": "ООО Ромашка",
                    "numbers": ["8 921 946-27-61"], "manager": ANNA})),
    )
    .await;
    let ivan = added["contact"]["id"].as_i64().unwrap();
    contact_becomes(&anna, "79219462761", Some("Иван Петров")).await;
    let copy = anna
        .log()
        .contact_for_number("79219462761")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copy.manager_sip_id.as_deref(), Some(ANNA));
    edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::PUT,
        &format!("/team/contacts/{ivan}"),
        Some(json!({"name": "Иван Сергеевич", "numbers": ["8 921 946-27-61"]})),
    )
    .await;
    edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::DELETE,
        &format!("/team/contacts/{before_id}"),
        None,
    )
    .await;
    contact_becomes(&anna, "79219462761", Some("Иван Сергеевич")).await;
    contact_becomes(&anna, "79210000001", None).await;

    // The app that was closed catches up when it starts again.
    let boris = boris_desk.open();
    assert_eq!(
        boris
            .log()
            .contact_for_number("79210000001")
            .await
            .unwrap()
            .map(|c| c.name),
        Some("До вступления".to_owned()),
        "the closed app still has the old copy"
    );
    boris.start_live_events().await.unwrap();
    contact_becomes(&boris, "79219462761", Some("Иван Сергеевич")).await;
    contact_becomes(&boris, "79210000001", None).await;

    // An operator cannot change a team contact, here or on the server.
    let refused = anna
        .update_contact(
            copy.id,
            call_log::NewContact {
                name: "Renamed".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TeamRefused, "{refused}");
    assert!(refused.to_string().contains("supervisor"), "{refused}");
    let refused = anna.delete_contact(copy.id).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TeamRefused, "{refused}");
    contact_becomes(&anna, "79219462761", Some("Иван Сергеевич")).await;
    // Their own contacts stay theirs to change.
    let own = anna
        .log()
        .add_contact(call_log::NewContact {
            name: "Мой клиент".into(),
            numbers: vec!["+74950000009".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    anna.update_contact(
        own.id,
        call_log::NewContact {
            name: "Мой клиент 2".into(),
            numbers: vec!["+74950000009".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // Leaving takes the team's contacts away and keeps the operator's own.
    let left = anna.leave_team(false).await.unwrap();
    assert_eq!(left.deleted_contacts, 1);
    let names: Vec<String> = anna
        .log()
        .contacts(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Мой клиент 2"]);
    anna.shutdown().await;
    boris.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_edits_team_contacts_from_the_app() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let (_desk, sergey) = joined_app(&relay, "Сергей", SERGEY, Role::Supervisor).await;
    let added = sergey
        .add_team_contact(call_log::NewContact {
            name: "Иван".into(),
            numbers: vec!["+7 921 946-27-61".into()],
            manager_sip_id: Some(ANNA.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let team_id = added.team_id.unwrap();
    assert_eq!(
        relay
            .state()
            .phonebook
            .store()
            .team_contacts()
            .await
            .unwrap()[0]
            .id,
        team_id
    );
    let edited = sergey
        .update_contact(
            added.id,
            call_log::NewContact {
                name: "Иван Петров".into(),
                numbers: vec!["+7 921 946-27-61".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((edited.id, edited.name.as_str()), (added.id, "Иван Петров"));
    let on_relay = relay
        .state()
        .phonebook
        .store()
        .team_contacts()
        .await
        .unwrap();
    assert_eq!(on_relay[0].name, "Иван Петров");
    // A bad edit is refused by the server by name, and nothing changes.
    let bad = sergey
        .update_contact(
            added.id,
            call_log::NewContact {
                name: "Иван".into(),
                manager_sip_id: Some("101".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("manager"), "{bad}");
    contact_becomes(&sergey, "79219462761", Some("Иван Петров")).await;
    sergey.delete_contact(added.id).await.unwrap();
    contact_becomes(&sergey, "79219462761", None).await;
    assert!(
        relay
            .state()
            .phonebook
            .store()
            .team_contacts()
            .await
            .unwrap()
            .is_empty()
    );
    sergey.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_refused_for_the_seats_rate_is_tried_again() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let supervisor = supervisor_credential(&relay, &http).await;
    let (_desk, anna) = joined_app(&relay, "Анна", ANNA, Role::Operator).await;
    let mut applied = anna.team_phonebook_applied();
    // The first sync and the one after the catch-up are done.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The operator's seat spends its whole rate (`relay::seat_limits`), as a busy app may.
    let credential = anna.secrets().seat_credential().unwrap().unwrap();
    let mut limited = false;
    for _ in 0..relay::seat_limits::SEAT_PER_MINUTE + 10 {
        let status = http
            .get(format!("{}/team/callbacks", base(&relay)))
            .bearer_auth(credential.expose_secret())
            .send()
            .await
            .unwrap()
            .status();
        limited |= status.as_u16() == 429;
    }
    assert!(limited, "the seat's rate was spent");
    // The edit's announcement makes the app sync; the first try is refused with 429.
    let added = edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::POST,
        "/team/contacts",
        Some(json!({"name": "Иван", "numbers": ["+7 921 946-27-61"]})),
    )
    .await;
    let version = added["contact"]["version"].as_i64().unwrap();
    tokio::time::timeout(CEILING, applied.wait_for(|v| *v >= version))
        .await
        .expect("the refused sync was tried again")
        .unwrap();
    contact_becomes(&anna, "79219462761", Some("Иван")).await;
    anna.shutdown().await;
}

/// The team phonebook versions announced on `events` so far.
fn phonebook_announcements(
    events: &mut tokio::sync::broadcast::Receiver<companion::DomainEvent>,
) -> Vec<i64> {
    let mut versions = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let companion::DomainEvent::TeamPhonebookChanged { version } = event {
            versions.push(version);
        }
    }
    versions
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_that_changed_the_copy_is_announced_once_and_one_that_found_nothing_is_not() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = team_seats::real_relay(&relay_dir).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let supervisor = supervisor_credential(&relay, &http).await;
    // Joined, live events not started: only the syncs asked for here run.
    let desk = Desk::new();
    let core = desk.open();
    let (link, _) = invite(&relay, "Анна", ANNA, Role::Operator).await;
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    let mut events = core.subscribe();

    assert_eq!(core.sync_team_phonebook().await.unwrap(), Some(0));
    assert_eq!(
        phonebook_announcements(&mut events),
        Vec::<i64>::new(),
        "an empty phonebook changes nothing"
    );

    let added = edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::POST,
        "/team/contacts",
        Some(json!({"name": "Иван Петров", "numbers": ["8 921 946-27-61"]})),
    )
    .await;
    let version = added["contact"]["version"].as_i64().unwrap();
    assert_eq!(core.sync_team_phonebook().await.unwrap(), Some(version));
    assert_eq!(phonebook_announcements(&mut events), [version]);
    // Nothing new since: nothing to announce.
    assert_eq!(core.sync_team_phonebook().await.unwrap(), Some(version));
    assert_eq!(phonebook_announcements(&mut events), Vec::<i64>::new());

    // Running: an edit elsewhere reaches the copy through the stream and is announced.
    core.start_live_events().await.unwrap();
    let id = added["contact"]["id"].as_i64().unwrap();
    let edited = edit(
        &http,
        &relay,
        &supervisor,
        reqwest::Method::PUT,
        &format!("/team/contacts/{id}"),
        Some(json!({"name": "Иван Сергеевич", "numbers": ["8 921 946-27-61"]})),
    )
    .await;
    let newer = edited["contact"]["version"].as_i64().unwrap();
    let deadline = tokio::time::Instant::now() + CEILING;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(companion::DomainEvent::TeamPhonebookChanged { version }))
                if version >= newer =>
            {
                break;
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => panic!("the core's events: {err}"),
            Err(_) => panic!("no teamPhonebookChanged for version {newer} within {CEILING:?}"),
        }
    }
    contact_becomes(&core, "79219462761", Some("Иван Сергеевич")).await;
    core.shutdown().await;
}
