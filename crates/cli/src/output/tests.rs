//! Every output type against `docs/cli-json.md`: one sample of each, built from the core's
//! values as the commands build it, has exactly the top-level fields the document's example has,
//! and the document has an example for every sample. This covers the commands the integration
//! tests cannot run without an account (sign-in, the directory, calls, parking) and every kind of
//! event.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeZone, Utc};
use companion::{DomainEvent, ErrorCode};
use serde::Serialize;
use serde_json::Value;

use super::events::Event;
use super::routing::RoutingResult;
use super::{
    Account, AccountSaved, CallRow, Callback, Contact, Dialled, ExternalNumber, HungUp,
    ImportReport, Journal, Parking, Router, RoutingRules, Seat, SignIn, Status, TeamJoined,
    TeamLeft, TeamStatus, Terminal, Transferred, Workplace, WrapUp,
};

/// Each heading's first code span with the first JSON example under it (as in
/// `tests/it/json.rs`).
fn documented() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/cli-json.md"
    ))
    .unwrap();
    let mut examples = BTreeMap::new();
    let mut heading: Option<String> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("## ") || line.starts_with("### ") {
            heading = line.split('`').nth(1).map(str::to_owned);
        } else if line == "```json" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            let name = heading.take().expect("a JSON example under a heading");
            examples.insert(name, serde_json::from_str(&block.join("\n")).unwrap());
        }
    }
    examples
}

fn fields(value: &Value) -> BTreeSet<String> {
    let object = match value {
        Value::Array(items) => &items[0],
        other => other,
    };
    object.as_object().unwrap().keys().cloned().collect()
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 9, minute, 0).unwrap()
}

fn json(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

fn live_call() -> companion::LiveCall {
    companion::LiveCall {
        leg: "leg-1".into(),
        tag: Some("t".into()),
        transport_id: Some("10.0.0.1:5070".into()),
        direction: companion::CallDirection::Incoming,
        phase: companion::CallPhase::Connected,
        remote_number: Some("79219462761".into()),
        remote_name: None,
        workplaces: ["883140582526566".to_owned()].into(),
        answered_by: Some("883140582526566".into()),
        mine: true,
        whose: None,
        started_at: at(0),
        connected_at: Some(at(1)),
        ended_at: None,
        duration_secs: None,
        end_reason: None,
    }
}

fn contact() -> call_log::Contact {
    call_log::Contact {
        id: 1,
        name: "Иван Петров".into(),
        company: Some("ACME".into()),
        numbers: vec![call_log::ContactNumber {
            number: "+7 921 946-27-61".into(),
            key: "79219462761".into(),
        }],
        manager_sip_id: None,
        notes: None,
        team_id: None,
    }
}

/// One event of every kind the core announces.
fn events() -> Vec<DomainEvent> {
    vec![
        DomainEvent::CallStarted {
            call: live_call(),
            summary: Some(Box::new(call_log::ScreenPop {
                number: "79219462761".into(),
                key: Some("79219462761".into()),
                contact: Some(contact()),
                earlier_calls: 1,
                last_call: Some(call_log::LastCall {
                    at: at(0),
                    direction: Some(mtt_api::Direction::Incoming),
                    outcome: call_log::CallOutcome::Answered,
                    duration_secs: Some(95),
                }),
                last_operator: None,
                last_wrapup: None,
            })),
            late: false,
        },
        DomainEvent::CallUpdated {
            call: live_call(),
            late: false,
        },
        DomainEvent::CallEnded {
            call: live_call(),
            missed: false,
            late: true,
        },
        DomainEvent::CaughtUp {
            last_id: 51,
            late_events: 101,
            live: vec![live_call()],
        },
        DomainEvent::CallRecorded {
            leg: "leg-1".into(),
            url: "https://records.example.com/1.mp3".into(),
        },
        DomainEvent::DirectoryChanged {
            what: "numbers".into(),
        },
        DomainEvent::Link {
            state: "connected".into(),
            reason: None,
            retry_in_secs: None,
            lag_ms: Some(12),
        },
        DomainEvent::Resynced {
            reason: "pruned".into(),
            resume_after: 10,
        },
        DomainEvent::Session {
            signed_in: true,
            access_expires_at: Some(at(1)),
            refresh_expires_at: Some(at(2)),
            renew_soon: false,
        },
        DomainEvent::Routed {
            outcome: companion::RoutingOutcome {
                leg: "leg-2".into(),
                caller_number: None,
                external_number: "74996497803".into(),
                choice: companion::RoutingChoice::Release {
                    rule: "outside_hours".into(),
                },
                result: call_log::RoutingOutcome::Released,
                in_time: true,
                elapsed_ms: 300,
                deadline_ms: 4_000,
                error: None,
                detail: None,
                decided_at: at(3),
            },
        },
        DomainEvent::WrapUpOffered {
            call: live_call(),
            saved: None,
        },
        DomainEvent::ColleagueWrapUp {
            leg: "leg-1".into(),
            author: "Анна".into(),
            note: "wants a quote".into(),
            tags: vec!["sale".into()],
            late: false,
        },
        DomainEvent::FollowUpDue {
            follow_up: call_log::FollowUp {
                leg: "leg-1".into(),
                number: Some("79219462761".into()),
                key: Some("79219462761".into()),
                contact_name: Some("Иван Петров".into()),
                due_at: at(30),
                note: "send the price list".into(),
                tags: vec!["sale".into()],
                notified: false,
            },
        },
        DomainEvent::Colleague {
            colleague: companion::team::TeamColleague {
                seat: 2,
                name: "Борис".into(),
                workplace: "883140582526567".into(),
                role: "operator".into(),
                presence: companion::team::Presence::Talking,
                availability: companion::team::Availability::Break,
            },
        },
        DomainEvent::ColleaguesReloaded,
        DomainEvent::TeamPhonebookChanged { version: 12 },
        DomainEvent::Trouble {
            code: ErrorCode::CallLog,
            message: "the call history cannot be written".into(),
        },
    ]
}

/// A sample of every command's output, by the document's heading.
fn samples() -> BTreeMap<String, Value> {
    let mut samples = BTreeMap::new();
    let mut add = |name: &str, value: Value| {
        assert!(
            samples.insert(name.to_owned(), value).is_none(),
            "{name} twice"
        );
    };
    let settings = companion::Settings::default();
    let session = mtt_api::SessionStatus {
        signed_in: true,
        access_expires_at: Some(at(1)),
        refresh_expires_at: Some(at(2)),
    };
    add("trubka login", json(SignIn { signed_in: true }));
    add("trubka logout", json(SignIn { signed_in: false }));
    add(
        "trubka status",
        json(Status::new("default", Some(&session), &settings)),
    );
    add(
        "trubka account set",
        json(AccountSaved {
            profile: "default".into(),
            saved: true,
        }),
    );
    add(
        "trubka account show",
        json(Account::from(&settings.account)),
    );
    add(
        "trubka numbers",
        json([ExternalNumber::from(&mtt_api::ExternalNumber {
            number: "74996497803".into(),
            kind: None,
        })]),
    );
    add(
        "trubka workplaces",
        json([Workplace::from(&mtt_api::Workplace {
            workplace: "883140582526566".into(),
            name: String::new(),
        })]),
    );
    add(
        "trubka terminals",
        json([Terminal::from(&mtt_api::Terminal {
            terminal: "883140777446532".into(),
            workplace: "883140582526566".into(),
        })]),
    );
    let target =
        companion::dial_target("8 (921) 946-27-61", companion::dialer::DEFAULT_REGION).unwrap();
    let placed = mtt_api::PlacedCall {
        id: mtt_api::LegId::new("leg-1"),
    };
    add("trubka call", json(Dialled::new(&target, &placed)));
    add(
        "trubka hangup",
        json(HungUp {
            call: "leg-1".into(),
            hung_up: true,
        }),
    );
    add(
        "trubka transfer",
        json(Transferred {
            call: "leg-1".into(),
            transferred_to: "883140777551401".into(),
        }),
    );
    add(
        "trubka park",
        json(Parking {
            numbers: vec!["74996497803".into()],
            parking: true,
        }),
    );
    let rules = RoutingRules::from(&companion::RoutingSettings::default());
    add("trubka routing rules", json(&rules));
    add("trubka routing set-rules", json(&rules));
    add(
        "trubka routing journal",
        json(Journal::from(&companion::RoutingJournal {
            decisions: vec![companion::RoutingJournalEntry {
                id: 1,
                leg: "leg-2".into(),
                caller_number: None,
                external_number: Some("74996497803".into()),
                rule: Some("deadline".into()),
                target: None,
                outcome: call_log::RoutingOutcome::TimedOut,
                detail: None,
                decided_at: at(3),
                took_ms: 4_100,
                deadline_ms: 4_000,
                met_deadline: false,
            }],
            met: 0,
            share: Some(0.0),
        })),
    );
    add("trubka routing router", json(Router { router: true }));
    add(
        "trubka history",
        json([CallRow::from(&call_log::CallRecord {
            id: 1,
            leg: "leg-1".into(),
            direction: Some(mtt_api::Direction::Other("Transit".into())),
            state: mtt_api::CallState::Finished,
            caller_number: Some("79219462761".into()),
            caller_name: None,
            callee_number: Some("74996497803".into()),
            callee_name: None,
            peer_number: Some("79219462761".into()),
            peer_key: Some("79219462761".into()),
            line_number: Some("74996497803".into()),
            contact_name: None,
            started_at: at(0),
            pbx_start_raw: None,
            pbx_start: None,
            answered_at: None,
            answered_by: None,
            ended_at: Some(at(1)),
            duration_secs: Some(0),
            end_reason: None,
            end_reason_code: None,
            recording_url: None,
            transfer_target: None,
            missed: true,
            called_back: false,
            tag: None,
            transport_id: None,
            note: String::new(),
            wrapup_tags: Vec::new(),
            follow_up_at: None,
        })]),
    );
    add(
        "trubka callbacks",
        json([Callback::from(&call_log::CallbackEntry {
            number: Some("79219462761".into()),
            key: "79219462761".into(),
            contact_name: None,
            pbx_name: None,
            missed_calls: 1,
            last_missed_at: at(1),
        })]),
    );
    let wrapup = call_log::WrapUp {
        leg: "leg-1".into(),
        note: "wants a quote".into(),
        tags: vec!["sale".into(), "vip".into()],
        follow_up_at: Some(at(30)),
        saved_at: at(5),
    };
    add("trubka note", json(WrapUp::from(&wrapup)));
    add("trubka tag", json(WrapUp::from(&wrapup)));
    add("trubka follow-up", json(WrapUp::from(&wrapup)));
    add(
        "trubka follow-ups",
        json([super::FollowUp::from(&call_log::FollowUp {
            leg: "leg-1".into(),
            number: Some("79219462761".into()),
            key: Some("79219462761".into()),
            contact_name: None,
            due_at: at(30),
            note: String::new(),
            tags: vec![],
            notified: false,
        })]),
    );
    add(
        "trubka contacts import",
        json(ImportReport::from(&call_log::ImportReport::default())),
    );
    add("trubka contacts list", json([Contact::from(&contact())]));
    let seat = companion::TeamSeat {
        id: 7,
        name: "Anna".into(),
        role: "operator".into(),
        workplace: "883140582526566".into(),
    };
    add(
        "trubka team join",
        json(TeamJoined::from(&companion::JoinReport {
            host: "team.example.ru".into(),
            seat: seat.clone(),
            removed_personal_secrets: true,
            stopped_routing: false,
            kept_history: true,
        })),
    );
    add(
        "trubka team status",
        json(TeamStatus {
            state: "joined".into(),
            server: Some("https://team.example.ru".into()),
            host: Some("team.example.ru".into()),
            seat: Some(Seat::from(&seat)),
            joined_at: Some(at(0)),
            revoked_at: None,
            link: Some("connected".into()),
            reason: None,
        }),
    );
    add(
        "trubka team leave",
        json(TeamLeft::from(companion::LeaveReport {
            deleted_calls: 3,
            deleted_contacts: 1,
        })),
    );
    for event in events() {
        let value = json(Event::from(&event));
        let kind = value["kind"].as_str().unwrap().to_owned();
        add(&kind, value);
    }
    samples
}

#[test]
fn every_output_has_the_documented_fields() {
    let docs = documented();
    let samples = samples();
    assert_eq!(
        docs.keys().collect::<Vec<_>>(),
        samples.keys().collect::<Vec<_>>(),
        "docs/cli-json.md documents exactly the outputs sampled here"
    );
    for (name, sample) in &samples {
        let example = &docs[name];
        assert_eq!(example.is_array(), sample.is_array(), "{name}");
        assert_eq!(fields(sample), fields(example), "{name}: {sample}");
    }
}

#[test]
fn an_unlisted_direction_or_state_prints_as_the_word() {
    let samples = samples();
    let row = &samples["trubka history"][0];
    assert_eq!(row["direction"], "Transit");
    assert_eq!(row["state"], "finished");
}

#[test]
fn the_journal_text_names_outcomes_as_json_does() {
    for result in [
        RoutingResult::Transferred,
        RoutingResult::Released,
        RoutingResult::TimedOut,
        RoutingResult::Failed,
    ] {
        assert_eq!(json(result), result.as_str());
    }
}
