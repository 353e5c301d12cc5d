//! The team store's promises, on SQLite and on a real Postgres (see `store_events`): seats,
//! invites and credentials, the team generation, sealed secrets and facts, sign-ins taken once,
//! and routing's rules, callers and journal.

use std::sync::Arc;

use call_routing::{JournalEntry, RoutingOutcome};
use chrono::{TimeDelta, Utc};
use relay::RelayError;
use relay::store::NoSink;
use relay::store::audit::{AuditQuery, AuditStore, NewAuditEntry, Outcome};
use relay::store::phonebook::PhonebookStore;
use relay::store::postgres::{PostgresOptions, PostgresStore};
use relay::store::routing::CallerSeen;
use relay::store::sqlite::{SqliteOptions, SqliteStore};
use relay::store::team::{NewSeat, Redeemed, SeatRef, TeamStore};
use relay::store::wrapup::{NewWrapUp, WrapUpStore};
use team_api::wrapup::TeamTags;
use team_api::{Role, TeamRouting};

use crate::pg_cluster;

/// One store as each of the team's traits.
type TeamStores = (
    Arc<dyn TeamStore>,
    Arc<dyn AuditStore>,
    Arc<dyn WrapUpStore>,
    Arc<dyn PhonebookStore>,
);

enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    async fn sqlite() -> Self {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    async fn postgres() -> Self {
        Backend::Postgres(pg_cluster::database().await)
    }

    async fn open(&self) -> Arc<dyn TeamStore> {
        self.open_all().await.0
    }

    /// The one store as each of the team's traits.
    async fn open_all(&self) -> TeamStores {
        fn all<S: TeamStore + AuditStore + WrapUpStore + PhonebookStore>(
            store: Arc<S>,
        ) -> TeamStores {
            (store.clone(), store.clone(), store.clone(), store)
        }
        match self {
            Backend::Sqlite(dir) => all(Arc::new(
                SqliteStore::open(
                    &dir.path().join("relay.sqlite3"),
                    SqliteOptions::default(),
                    Arc::new(NoSink),
                )
                .unwrap(),
            )),
            Backend::Postgres(url) => all(Arc::new(
                PostgresStore::connect(url, PostgresOptions::default(), Arc::new(NoSink))
                    .await
                    .unwrap(),
            )),
        }
    }
}

macro_rules! on_both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::postgres().await).await;
            }
        }
    };
}

fn seat(name: &str, workplace: &str, role: Role) -> NewSeat {
    NewSeat {
        name: name.into(),
        workplace: workplace.into(),
        role,
    }
}

on_both_stores!(seats_invites_and_joins_keep_their_rules);
async fn seats_invites_and_joins_keep_their_rules(backend: Backend) {
    let store = backend.open().await;
    let team = store.team_id().await.unwrap();
    assert_eq!(
        store.team_id().await.unwrap(),
        team,
        "the team id is made once"
    );
    let generation = store.team_generation().await.unwrap();
    let anna = store
        .add_seat(seat("Anna", "0012345", Role::Operator))
        .await
        .unwrap();
    assert_eq!(anna.profile.name, "Anna");
    assert!(anna.revoked_at.is_none() && anna.joined_at.is_none());
    let after_add = store.team_generation().await.unwrap();
    assert_ne!(after_add, generation);

    let now = Utc::now();
    let with_invite = store
        .add_invite(
            SeatRef::Name("Anna".into()),
            [1; 32],
            now + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    assert!(with_invite.invite_expires_at.is_some());
    // A newer invite replaces the older one.
    store
        .add_invite(
            SeatRef::Id(anna.profile.id),
            [2; 32],
            now + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(
        store.redeem_invite([1; 32], [10; 32], now).await.unwrap(),
        Redeemed::Used
    );
    assert_eq!(
        store.redeem_invite([9; 32], [10; 32], now).await.unwrap(),
        Redeemed::Unknown
    );
    assert_eq!(
        store
            .redeem_invite([2; 32], [10; 32], now + TimeDelta::hours(2))
            .await
            .unwrap(),
        Redeemed::Expired
    );
    let joined = store.redeem_invite([2; 32], [10; 32], now).await.unwrap();
    assert!(matches!(joined, Redeemed::Joined(ref profile) if profile.id == anna.profile.id));
    assert_eq!(
        store.redeem_invite([2; 32], [11; 32], now).await.unwrap(),
        Redeemed::Used,
        "an invite works once"
    );
    let snapshot = store.access_snapshot().await.unwrap();
    assert_eq!(snapshot.credentials.len(), 1);
    assert_eq!(snapshot.credentials[0].hash, [10; 32]);
    assert!(!snapshot.credentials[0].revoked);
    assert!(!snapshot.team_mode);

    // A second join of the seat revokes the first credential.
    store
        .add_invite(
            SeatRef::Id(anna.profile.id),
            [3; 32],
            now + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    store.redeem_invite([3; 32], [12; 32], now).await.unwrap();
    let snapshot = store.access_snapshot().await.unwrap();
    assert_eq!(
        snapshot
            .credentials
            .iter()
            .map(|c| (c.hash[0], c.revoked))
            .collect::<Vec<_>>(),
        vec![(10, true), (12, false)]
    );

    // Names: two active seats of one name are ambiguous; a revoked one is refused.
    store
        .add_seat(seat("Boris", "0012346", Role::Supervisor))
        .await
        .unwrap();
    store
        .add_seat(seat("Boris", "0012347", Role::Admin))
        .await
        .unwrap();
    assert!(matches!(
        store.revoke_seat(SeatRef::Name("Boris".into())).await,
        Err(RelayError::SeatAmbiguous(_))
    ));
    assert!(matches!(
        store.revoke_seat(SeatRef::Name("Nobody".into())).await,
        Err(RelayError::SeatNotFound(_))
    ));
    let revoked = store
        .revoke_seat_asking(SeatRef::Id(anna.profile.id), true)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        store.revoke_seat(SeatRef::Id(anna.profile.id)).await,
        Err(RelayError::SeatRevoked(_))
    ));
    assert!(matches!(
        store
            .add_invite(
                SeatRef::Id(anna.profile.id),
                [4; 32],
                now + TimeDelta::hours(1)
            )
            .await,
        Err(RelayError::SeatRevoked(_))
    ));
    let snapshot = store.access_snapshot().await.unwrap();
    let anna_now = snapshot
        .credentials
        .iter()
        .find(|c| c.hash == [12; 32])
        .unwrap();
    assert!(anna_now.revoked && anna_now.seat_revoked && anna_now.delete_local_data);
    let seats = store.seats().await.unwrap();
    assert_eq!(
        seats
            .iter()
            .map(|s| s.profile.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Anna", "Boris", "Boris"]
    );
}

on_both_stores!(secrets_facts_and_sign_ins);
async fn secrets_facts_and_sign_ins(backend: Backend) {
    let store = backend.open().await;
    assert_eq!(
        store.sealed("integration.client".into()).await.unwrap(),
        None
    );
    let generation = store.team_generation().await.unwrap();
    store
        .put_sealed("integration.client".into(), vec![1, 2, 3])
        .await
        .unwrap();
    store
        .put_sealed("integration.client".into(), vec![4, 5])
        .await
        .unwrap();
    assert_eq!(
        store.sealed("integration.client".into()).await.unwrap(),
        Some(vec![4, 5])
    );
    assert_ne!(store.team_generation().await.unwrap(), generation);
    store
        .delete_sealed(vec!["integration.client".into()])
        .await
        .unwrap();
    assert_eq!(
        store.sealed("integration.client".into()).await.unwrap(),
        None
    );

    assert_eq!(store.fact("last_refresh".into()).await.unwrap(), None);
    store
        .put_fact("last_refresh".into(), "a".into())
        .await
        .unwrap();
    store
        .put_fact("last_refresh".into(), "b".into())
        .await
        .unwrap();
    assert_eq!(
        store.fact("last_refresh".into()).await.unwrap().as_deref(),
        Some("b")
    );
    store.enter_team_mode().await.unwrap();
    assert!(store.access_snapshot().await.unwrap().team_mode);

    let now = Utc::now();
    store
        .add_connect_state([7; 32], now + TimeDelta::minutes(10))
        .await
        .unwrap();
    store
        .add_connect_state([8; 32], now + TimeDelta::minutes(10))
        .await
        .unwrap();
    assert!(store.take_connect_state([7; 32], now).await.unwrap());
    assert!(
        !store.take_connect_state([7; 32], now).await.unwrap(),
        "a sign-in is taken once"
    );
    assert!(
        !store
            .take_connect_state([8; 32], now + TimeDelta::minutes(11))
            .await
            .unwrap(),
        "an expired sign-in is refused"
    );
}

on_both_stores!(routing_rules_callers_and_journal);
async fn routing_rules_callers_and_journal(backend: Backend) {
    let store = backend.open().await;
    assert_eq!(store.routing().await.unwrap(), None);
    let routing = TeamRouting::default();
    store.put_routing(routing.clone()).await.unwrap();
    assert_eq!(store.routing().await.unwrap(), Some(routing));

    let t0 = Utc::now() - TimeDelta::days(10);
    let seen = |days: i64, answered_by: Option<&str>| CallerSeen {
        number_key: "79161234567".into(),
        at: t0 + TimeDelta::days(days),
        answered_by: answered_by.map(str::to_owned),
    };
    store.note_caller(seen(2, Some("0012345"))).await.unwrap();
    // An older call noted late moves "first seen" back, not the last operator.
    store.note_caller(seen(0, Some("0012399"))).await.unwrap();
    store.note_caller(seen(3, None)).await.unwrap();
    let record = store
        .caller_record("79161234567".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.first_seen_at.timestamp(), t0.timestamp());
    let (operator, at) = record.last_operator.unwrap();
    assert_eq!(operator, "0012345");
    assert_eq!(at.timestamp(), (t0 + TimeDelta::days(2)).timestamp());
    assert_eq!(store.caller_record("000".into()).await.unwrap(), None);
    assert_eq!(
        store
            .prune_callers_before(t0 + TimeDelta::days(4))
            .await
            .unwrap(),
        1
    );

    let entry = |leg: &str, days: i64| JournalEntry {
        leg: leg.into(),
        caller_number: Some("+79161234567".into()),
        line_number: None,
        rule: Some("last_operator".into()),
        target: Some("0012345".into()),
        outcome: RoutingOutcome::from_text("transferred"),
        detail: None,
        decided_at: t0 + TimeDelta::days(days),
        took_ms: 12,
        deadline_ms: 1500,
    };
    let first = store.record_decision(entry("a", 0)).await.unwrap();
    let second = store.record_decision(entry("b", 5)).await.unwrap();
    assert!(second > first);
    let decisions = store.decisions(10).await.unwrap();
    assert_eq!(
        decisions
            .iter()
            .map(|d| d.entry.leg.as_str())
            .collect::<Vec<_>>(),
        vec!["b", "a"]
    );
    assert_eq!(decisions[0].entry.took_ms, 12);
    assert_eq!(
        store
            .prune_decisions_before(t0 + TimeDelta::days(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.decisions(10).await.unwrap().len(), 1);
}

/// Two instances on one database: a seat revoked through one moves the generation the other
/// reads, and one invite redeemed through both at once joins once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_share_the_team() {
    let url = pg_cluster::database().await;
    let open = || async {
        Arc::new(
            PostgresStore::connect(&url, PostgresOptions::default(), Arc::new(NoSink))
                .await
                .unwrap(),
        )
    };
    let one = open().await;
    let two = open().await;
    assert_eq!(one.team_id().await.unwrap(), two.team_id().await.unwrap());
    let anna = one
        .add_seat(seat("Anna", "0012345", Role::Operator))
        .await
        .unwrap();
    let now = Utc::now();
    one.add_invite(
        SeatRef::Id(anna.profile.id),
        [1; 32],
        now + TimeDelta::hours(1),
    )
    .await
    .unwrap();
    let (a, b) = tokio::join!(
        one.redeem_invite([1; 32], [10; 32], now),
        two.redeem_invite([1; 32], [11; 32], now)
    );
    let joined = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|r| matches!(r, Redeemed::Joined(_)))
        .count();
    assert_eq!(joined, 1, "one invite, one join");
    let before = two.team_generation().await.unwrap();
    one.revoke_seat(SeatRef::Id(anna.profile.id)).await.unwrap();
    assert_ne!(two.team_generation().await.unwrap(), before);
    assert!(
        two.access_snapshot()
            .await
            .unwrap()
            .credentials
            .iter()
            .all(|c| c.seat_revoked)
    );
}

on_both_stores!(audit_wrapups_and_tags);
async fn audit_wrapups_and_tags(backend: Backend) {
    let (_, audit, wrapups, _) = backend.open_all().await;
    // Whole seconds: SQLite keeps milliseconds, Postgres microseconds.
    let t0 = chrono::DateTime::from_timestamp(Utc::now().timestamp() - 3 * 86_400, 0).unwrap();
    let entry = |seat_id: i64, days: i64| NewAuditEntry {
        at: t0 + TimeDelta::days(days),
        seat_id,
        seat_name: format!("seat {seat_id}"),
        action: "dial".into(),
        target: "+79161234567 from 0012345".into(),
        outcome: if seat_id == 1 {
            Outcome::Done
        } else {
            Outcome::Refused
        },
        code: (seat_id != 1).then(|| "forbidden".into()),
        detail: "placed".into(),
    };
    let first = audit.record(entry(1, 0)).await.unwrap();
    let second = audit.record(entry(2, 1)).await.unwrap();
    let third = audit.record(entry(1, 2)).await.unwrap();
    assert!(first < second && second < third);
    let all = audit.entries(AuditQuery::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].entry, entry(2, 1));
    let mine = audit
        .entries(AuditQuery {
            since: Some(t0 + TimeDelta::hours(1)),
            seat_id: Some(1),
        })
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|e| e.id).collect::<Vec<_>>(), vec![third]);
    assert_eq!(
        audit
            .prune_audit_before(t0 + TimeDelta::hours(1))
            .await
            .unwrap(),
        1
    );

    let wrapup = |seat_id: i64, note: &str, hours: i64| NewWrapUp {
        leg_id: "leg-1".into(),
        number: "79161234567".into(),
        seat_id,
        seat_name: "Anna".into(),
        workplace: "0012345".into(),
        note: note.into(),
        tags: vec!["sale".into()],
        saved_at: t0 + TimeDelta::hours(hours),
    };
    wrapups.save_wrapup(wrapup(1, "first", 1)).await.unwrap();
    // Saved again by the same seat, it replaces the seat's note for the leg.
    wrapups.save_wrapup(wrapup(1, "second", 2)).await.unwrap();
    wrapups
        .save_wrapup(wrapup(2, "colleague", 3))
        .await
        .unwrap();
    let about = wrapups
        .wrapups(Some("79161234567".into()), 10)
        .await
        .unwrap();
    assert_eq!(
        about.iter().map(|w| w.note.as_str()).collect::<Vec<_>>(),
        vec!["colleague", "second"]
    );
    assert_eq!(about[1].tags, vec!["sale".to_owned()]);
    assert!(
        wrapups
            .wrapups(Some("000".into()), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        wrapups
            .prune_wrapups_before(t0 + TimeDelta::hours(3))
            .await
            .unwrap(),
        1
    );
    assert_eq!(wrapups.team_tags().await.unwrap(), TeamTags::default());
    let tags: TeamTags = serde_json::from_value(
        serde_json::json!({"tags": ["sale", "complaint"], "required": true}),
    )
    .unwrap();
    wrapups.set_team_tags(tags.clone()).await.unwrap();
    assert_eq!(wrapups.team_tags().await.unwrap(), tags);
}

on_both_stores!(the_phonebook_versions_every_change_and_imports_all_or_nothing);
async fn the_phonebook_versions_every_change_and_imports_all_or_nothing(backend: Backend) {
    let (_, _, _, phonebook) = backend.open_all().await;
    let contact = |name: &str, number: &str| {
        phonebook::NewContact {
            name: name.into(),
            company: Some("ООО Ромашка".into()),
            numbers: vec![number.into()],
            manager_sip_id: None,
            notes: None,
        }
        .validate()
        .unwrap()
    };
    assert_eq!(phonebook.phonebook_version().await.unwrap(), 0);
    let anna = phonebook
        .add_contact(contact("Анна", "+7 916 123-45-67"))
        .await
        .unwrap();
    let boris = phonebook
        .add_contact(contact("Борис", "+7 916 765-43-21"))
        .await
        .unwrap();
    assert_eq!((anna.version, boris.version), (1, 2));
    assert_eq!(anna.numbers, vec!["+7 916 123-45-67".to_owned()]);
    let changed = phonebook
        .update_contact(anna.id, contact("Анна Петрова", "+7 916 123-45-67"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.version, 3);
    assert!(
        phonebook
            .update_contact(9999, contact("Никто", "+7 916 000-00-00"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(phonebook.delete_contact(boris.id).await.unwrap().is_some());
    assert!(phonebook.delete_contact(boris.id).await.unwrap().is_none());
    let since_two = phonebook.contact_changes(2, 10).await.unwrap();
    assert_eq!(since_two.version, 4);
    assert_eq!(
        since_two.contacts.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![anna.id]
    );
    assert_eq!(since_two.deleted, vec![boris.id]);
    let paged = phonebook.contact_changes(0, 1).await.unwrap();
    assert!(paged.more);
    let ahead = phonebook.contact_changes(99, 10).await.unwrap();
    assert!(ahead.reset);

    // One bad row of an all-or-nothing import stores nothing.
    let csv = "name,phone\nВера,+7 916 555-55-55\n,not a number\n";
    let refused = phonebook
        .import_contacts(phonebook::parse_csv(csv.as_bytes()), true)
        .await
        .unwrap();
    assert!(!refused.stored && !refused.problems.is_empty());
    assert_eq!(phonebook.phonebook_version().await.unwrap(), 4);
    // Imports `csv`; answers (added, updated) and the live contacts' names in list order.
    let import_and_list = async |csv: &str| {
        let imported = phonebook
            .import_contacts(phonebook::parse_csv(csv.as_bytes()), true)
            .await
            .unwrap();
        let live = phonebook.team_contacts().await.unwrap();
        (
            (imported.added, imported.updated),
            live.into_iter().map(|c| c.name).collect::<Vec<_>>(),
        )
    };
    // A row sharing a number and the name updates that contact instead of adding one.
    let (counts, names) =
        import_and_list("name,phone\nВера,+7 916 555-55-55\nАнна Петрова,+7 916 123-45-67\n").await;
    assert_eq!(counts, (1, 1));
    assert_eq!(names, ["Анна Петрова", "Вера"]);
    // "Case aside" holds for Cyrillic too (SQL's lower() folds only ASCII): a row in lower case
    // merges into the contact, and the list reads by name whatever the case.
    let (counts, names) =
        import_and_list("name,phone\nанна петрова,+7 916 123-45-67\nалла,+7 916 777-77-77\n").await;
    assert_eq!(counts, (1, 1));
    assert_eq!(names, ["алла", "Анна Петрова", "Вера"]);
}

/// Two instances changing the phonebook at once: every change gets its own version, and a
/// reader paging "what changed since" misses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_version_phonebook_changes_one_after_another() {
    let url = pg_cluster::database().await;
    let open = || async {
        Arc::new(
            PostgresStore::connect(&url, PostgresOptions::default(), Arc::new(NoSink))
                .await
                .unwrap(),
        )
    };
    let one = open().await;
    let two = open().await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = if n % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            let contact = phonebook::NewContact {
                name: format!("Контакт {n}"),
                company: None,
                numbers: vec![format!("+7 916 000-00-{n:02}")],
                manager_sip_id: None,
                notes: None,
            }
            .validate()
            .unwrap();
            store.add_contact(contact).await.unwrap().version
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        versions.push(task.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=40).collect::<Vec<_>>());
    let changes = two.contact_changes(0, 100).await.unwrap();
    assert_eq!(changes.contacts.len(), 40);
    assert_eq!(changes.version, 40);
}

/// The token refresh lock: while one instance holds it, another waits for it, and a lock whose
/// holder went away (its connection closed, as when the instance dies) is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_refresh_the_tokens_one_at_a_time() {
    let url = pg_cluster::database().await;
    let open = || async {
        Arc::new(
            PostgresStore::connect(&url, PostgresOptions::default(), Arc::new(NoSink))
                .await
                .unwrap(),
        )
    };
    let one = open().await;
    let two = open().await;
    let held = one.refresh_lock().await.unwrap();
    let waiting = tokio::spawn({
        let two = two.clone();
        async move { two.refresh_lock().await.unwrap() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the second instance waits for the first"
    );
    drop(held);
    let taken = tokio::time::timeout(std::time::Duration::from_secs(60), waiting)
        .await
        .expect("the lock is free once its holder lets go")
        .unwrap();
    drop(taken);
    // SQLite holds nothing: one relay runs on a file.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(
        &dir.path().join("relay.sqlite3"),
        SqliteOptions::default(),
        Arc::new(NoSink),
    )
    .unwrap();
    let first = sqlite.refresh_lock().await.unwrap();
    let second = sqlite.refresh_lock().await.unwrap();
    drop((first, second));
}

on_both_stores!(console_accounts_sessions_lockout_and_seen_apps);
async fn console_accounts_sessions_lockout_and_seen_apps(backend: Backend) {
    use relay::store::console::{ConsoleSessionRecord, ConsoleStore, FailedSignIn};
    let (team, _, _, _) = backend.open_all().await;
    let console: Arc<dyn ConsoleStore> = match &backend {
        Backend::Sqlite(dir) => Arc::new(
            SqliteStore::open(
                &dir.path().join("relay.sqlite3"),
                SqliteOptions::default(),
                Arc::new(NoSink),
            )
            .unwrap(),
        ),
        Backend::Postgres(url) => Arc::new(
            PostgresStore::connect(url, PostgresOptions::default(), Arc::new(NoSink))
                .await
                .unwrap(),
        ),
    };
    let boss = team
        .add_seat(seat("Борис", "0012346", Role::Admin))
        .await
        .unwrap();
    let id = boss.profile.id;
    // Edited, the seat keeps its number.
    let edited = team
        .edit_seat(id, seat("Борис Петров", "0012347", Role::Supervisor))
        .await
        .unwrap();
    assert_eq!(
        (
            edited.profile.id,
            edited.profile.name.as_str(),
            edited.profile.role
        ),
        (id, "Борис Петров", Role::Supervisor)
    );
    assert!(console.console_account(id).await.unwrap().is_none());
    console
        .set_console_password(id, "$argon2id$v=19$m=19456,t=2,p=1$x$y".into())
        .await
        .unwrap();
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let lock = TimeDelta::minutes(15);
    for n in 1..3 {
        assert_eq!(
            console
                .console_sign_in_failed(id, now, 3, lock)
                .await
                .unwrap(),
            FailedSignIn::Counted(n)
        );
    }
    assert_eq!(
        console
            .console_sign_in_failed(id, now, 3, lock)
            .await
            .unwrap(),
        FailedSignIn::Locked(now + lock)
    );
    let account = console.console_account(id).await.unwrap().unwrap();
    assert_eq!(account.locked_until, Some(now + lock));
    console.console_sign_in_succeeded(id).await.unwrap();
    assert_eq!(
        console
            .console_account(id)
            .await
            .unwrap()
            .unwrap()
            .locked_until,
        None
    );
    assert_eq!(console.console_accounts().await.unwrap().len(), 1);

    let session = |n: u8, created: chrono::DateTime<Utc>| ConsoleSessionRecord {
        id_hash: [n; 32],
        csrf_hash: [n + 100; 32],
        seat: id,
        created_at: created,
        last_used_at: created,
    };
    console.add_console_session(session(1, now)).await.unwrap();
    console
        .add_console_session(session(2, now - TimeDelta::days(8)))
        .await
        .unwrap();
    assert_eq!(
        console.console_session([1; 32]).await.unwrap(),
        Some(session(1, now))
    );
    console
        .touch_console_session([1; 32], now + TimeDelta::minutes(5))
        .await
        .unwrap();
    assert_eq!(
        console
            .console_session([1; 32])
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        now + TimeDelta::minutes(5)
    );
    assert_eq!(
        console
            .prune_console_sessions(now - TimeDelta::hours(12), now - TimeDelta::days(7))
            .await
            .unwrap(),
        1
    );
    assert_eq!(console.remove_console_sessions_of(id).await.unwrap(), 1);
    assert!(console.console_session([1; 32]).await.unwrap().is_none());
    assert!(console.remove_console_account(id).await.unwrap());
    assert!(!console.remove_console_account(id).await.unwrap());

    console
        .seat_seen(id, Some("0.9.0".into()), now)
        .await
        .unwrap();
    // A later sighting without a version keeps the version known.
    console
        .seat_seen(id, None, now + TimeDelta::hours(1))
        .await
        .unwrap();
    let seen = console.seats_seen().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].app_version.as_deref(), Some("0.9.0"));
    assert_eq!(seen[0].last_seen_at, now + TimeDelta::hours(1));
}

on_both_stores!(parked_call_claims_grant_once_fence_and_take_over);
async fn parked_call_claims_grant_once_fence_and_take_over(backend: Backend) {
    use relay::store::claims::{ClaimAnswer, ParkedCallClaim};
    use std::time::Duration;

    let store = backend.open().await;
    let now = Utc::now();
    let ask = |leg: &str, caller: &str, number: &str, token: i64, lease_ms: u64| ParkedCallClaim {
        leg: leg.into(),
        caller_key: caller.into(),
        external_number: number.into(),
        received_at: now,
        token,
        holder: format!("test {token}"),
        lease: Duration::from_millis(lease_ms),
    };
    // Eight asks at once (every instance sees every parked call): one is granted.
    let asks = futures::future::join_all((1..=8).map(|token| {
        store.claim_parked_call(ask("park-1", "79161112233", "74996497803", token, 60_000))
    }))
    .await;
    let answers: Vec<ClaimAnswer> = asks.into_iter().map(Result::unwrap).collect();
    let granted: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| matches!(a, ClaimAnswer::Granted { taken_over: false }))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(granted.len(), 1, "{answers:?}");
    let holder = i64::try_from(granted[0]).unwrap() + 1;
    for answer in answers
        .iter()
        .filter(|a| !matches!(a, ClaimAnswer::Granted { .. }))
    {
        let ClaimAnswer::HeldElsewhere { lease_left } = answer else {
            panic!("{answers:?}")
        };
        assert!(*lease_left <= Duration::from_secs(60), "{lease_left:?}");
        assert!(*lease_left > Duration::from_secs(30), "{lease_left:?}");
    }
    // The same caller to the same number again within the window is the same call, told twice.
    let mut repeat = ask("park-2", "79161112233", "74996497803", 20, 60_000);
    repeat.received_at = now + TimeDelta::seconds(2);
    assert_eq!(
        store.claim_parked_call(repeat).await.unwrap(),
        ClaimAnswer::Settled
    );
    // Hidden numbers are not one caller: two calls with no number are two calls.
    assert_eq!(
        store
            .claim_parked_call(ask("park-h1", "", "74996497803", 80, 60_000))
            .await
            .unwrap(),
        ClaimAnswer::Granted { taken_over: false }
    );
    let mut hidden = ask("park-h2", "", "74996497803", 81, 60_000);
    hidden.received_at = now + TimeDelta::seconds(1);
    assert_eq!(
        store.claim_parked_call(hidden).await.unwrap(),
        ClaimAnswer::Granted { taken_over: false },
        "a second caller with a hidden number is not a repeat of the first"
    );
    // Another number, or the same one later, is another call.
    assert_eq!(
        store
            .claim_parked_call(ask("park-3", "79161112233", "74996497804", 30, 60_000))
            .await
            .unwrap(),
        ClaimAnswer::Granted { taken_over: false }
    );
    let mut later = ask("park-4", "79161112233", "74996497803", 40, 60_000);
    later.received_at = now + TimeDelta::seconds(11);
    assert_eq!(
        store.claim_parked_call(later).await.unwrap(),
        ClaimAnswer::Granted { taken_over: false }
    );
    // Only the holder renews and acts, once; after that the call is settled for everyone.
    let renew = |token: i64| store.renew_claim("park-1".into(), token, Duration::from_secs(60));
    assert!(renew(holder).await.unwrap());
    assert!(!renew(holder + 100).await.unwrap());
    assert!(
        !store
            .start_acting("park-1".into(), holder + 100)
            .await
            .unwrap()
    );
    assert!(store.start_acting("park-1".into(), holder).await.unwrap());
    assert!(!store.start_acting("park-1".into(), holder).await.unwrap());
    assert!(
        !renew(holder).await.unwrap(),
        "an acting claim has no lease left to renew"
    );
    assert_eq!(
        store
            .claim_parked_call(ask("park-1", "79161112233", "74996497803", 50, 60_000))
            .await
            .unwrap(),
        ClaimAnswer::Settled
    );

    // A holder that lets its lease run out unacted is taken over, and fenced off.
    assert_eq!(
        store
            .claim_parked_call(ask("park-5", "79035550000", "74996497803", 60, 50))
            .await
            .unwrap(),
        ClaimAnswer::Granted { taken_over: false }
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        store
            .claim_parked_call(ask("park-5", "79035550000", "74996497803", 61, 60_000))
            .await
            .unwrap(),
        ClaimAnswer::Granted { taken_over: true }
    );
    assert!(
        !store
            .renew_claim("park-5".into(), 60, Duration::from_secs(60))
            .await
            .unwrap(),
        "the stalled holder cannot win its claim back"
    );
    assert!(
        !store.start_acting("park-5".into(), 60).await.unwrap(),
        "the stalled holder is fenced off"
    );
    assert!(store.start_acting("park-5".into(), 61).await.unwrap());
    let claim = store.claim_of("park-5".into()).await.unwrap().unwrap();
    assert_eq!(
        (claim.holder.as_str(), claim.takeovers, claim.acting),
        ("test 61", 1, true)
    );
    assert_eq!(store.claim_of("park-none".into()).await.unwrap(), None);
    // A holder past its lease cannot act even before anyone took over.
    assert_eq!(
        store
            .claim_parked_call(ask("park-6", "79035550001", "74996497803", 70, 50))
            .await
            .unwrap(),
        ClaimAnswer::Granted { taken_over: false }
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!store.start_acting("park-6".into(), 70).await.unwrap());

    assert_eq!(
        store
            .prune_claims_before(now - TimeDelta::seconds(1))
            .await
            .unwrap(),
        0
    );
    // Every claim on a call received by then (not the two later calls').
    assert_eq!(
        store
            .prune_claims_before(now + TimeDelta::seconds(1))
            .await
            .unwrap(),
        5
    );
}
