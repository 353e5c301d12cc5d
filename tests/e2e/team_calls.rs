//! Team mode end to end (issue #15): the real app joins a team through a `trubka://join` link
//! (confirming the server's host), dials from its dialer through the team server, the PBX
//! places the call from the operator's workplace, the Calls screen follows it, and a supervisor
//! (the `trubka` CLI, a seat of its own) sees the call with whose it is. The world is
//! team_world.rs's: a simulator and a relay in team mode, no demo anywhere.

use serde_json::json;
use team_api::Role;

use crate::app::{App, digits, wait_for};
use crate::click_to_call::wait_phase;
use crate::team_world::{ANNA, ANNA_NAME, Cli, SERGEY, TeamWorld, whose_call_to};

pub(crate) const DIALLED: &str = "8 (921) 946-27-61";
pub(crate) const CALLEE: &str = "79219462761";
const DIALLED_2: &str = "+7 812 140-60-30";
const CALLEE_2: &str = "78121406030";
const SERGEY_NAME: &str = "Петров Сергей";

/// Types `number` into the dialer and presses Call, as a person does.
pub(crate) fn dial(app: &App, number: &str) {
    app.show_screen("calls");
    // What an earlier dial left in the field goes, as a person selects it and types over it.
    app.js(
        "const f = document.querySelector('form.dialer #dialer'); f.value = '';
         f.dispatchEvent(new Event('input', {bubbles: true})); return true;",
        vec![],
    );
    app.type_into("form.dialer #dialer", number);
    app.click("form.dialer button[type=submit]");
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_seat_joined_by_link_dials_through_the_team_server_and_the_supervisor_sees_whose_call_it_is() {
    let world = TeamWorld::start();
    let anna = world.add_seat(ANNA_NAME, ANNA, Role::Operator);
    let sergey = world.add_seat(SERGEY_NAME, SERGEY, Role::Supervisor);

    // The supervisor: the CLI, joined with its own invite, following the team's events.
    let mut supervisor = Cli::new("supervisor");
    let joined = supervisor.join(&world.invite(&sergey));
    assert_eq!(joined["seat"]["role"], "supervisor", "{joined}");
    supervisor.follow_events();

    // The operator: the real app, joined by the link and confirmed in the window.
    let app = world.joined_app("team_calls", &anna);
    app.wait_js(
        "the link indicator to say connected",
        "const l = document.querySelector('header .link');
         return l && l.classList.contains('connected') ? l.textContent : null",
        vec![],
    );
    app.shot("team-calls-joined");
    app.show_screen("settings");
    let seat = app.wait_js(
        "Settings' Team section",
        "const s = document.getElementById('settings-team-workplace'); return s ? s.textContent : null",
        vec![],
    );
    assert!(seat.as_str().unwrap().contains(ANNA), "{seat}");
    app.shot("team-calls-settings");

    // Dialling from the window: the PBX places the call from the operator's own workplace.
    dial(&app, DIALLED);
    let call = world.wait_dial_to(CALLEE);
    assert_eq!(call["from"].as_str(), Some(ANNA), "callerId: {call}");
    assert_eq!(world.dials().len(), 1, "one makeCall: {:?}", world.dials());
    let make_call_id = call["make_call_id"].as_str().unwrap().to_owned();

    // The Calls screen follows it: my phone rings first.
    let row = wait_phase(&app, CALLEE, "PickUp");
    let leg = row["leg"].as_str().unwrap().to_owned();
    app.shot("team-calls-pickup");

    // The supervisor sees the call, and whose it is.
    let seen = supervisor.wait_event("the supervisor to see Anna's call", |e| {
        whose_call_to(e, CALLEE).is_some()
    });
    let whose = &seen["call"]["whose"];
    assert_eq!(whose["workplace"], ANNA, "{seen}");
    assert_eq!(seen["call"]["mine"], false, "{seen}");

    // Anna picks up her phone, the callee answers: connected in the window.
    world.sim.answer(&make_call_id, ANNA);
    wait_phase(&app, CALLEE, "Calling");
    world.sim.answer(&leg, "callee");
    wait_phase(&app, CALLEE, "Connected");
    app.shot("team-calls-connected");

    // Transferring it to a colleague, picked by name in the transfer picker: the team server
    // passes it to the PBX, once.
    app.click(&format!(
        "ul.live-calls > li.live-call[data-leg=\"{leg}\"] .actions button:not(.danger)"
    ));
    let offered = app.wait_js(
        "the transfer picker to offer Петров Сергей",
        "const d = document.querySelector('dialog.transfer');
         if (!d || !d.open) return null;
         const o = [...d.querySelectorAll('ul.transfer-options button.option')]
           .find(b => b.textContent.includes(arguments[0]));
         return o ? d.textContent : null",
        vec![json!(SERGEY_NAME)],
    );
    assert!(offered.as_str().unwrap().contains(SERGEY), "{offered}");
    app.shot("team-calls-transfer");
    app.js(
        "[...document.querySelectorAll('dialog.transfer ul.transfer-options button.option')]
           .find(b => b.textContent.includes(arguments[0])).setAttribute('data-pick', 'yes');
         return true;",
        vec![json!(SERGEY_NAME)],
    );
    app.click("dialog.transfer button.option[data-pick=yes]");
    let transfers = wait_for("the PBX to receive the transfer", || {
        let found: Vec<_> = world
            .requests("transferCall")
            .into_iter()
            .filter(|r| r["leg_id"] == leg.as_str())
            .collect();
        if found.is_empty() {
            Err("no transferCall for the leg".to_owned())
        } else {
            Ok(found)
        }
    });
    assert_eq!(transfers.len(), 1, "one transferCall: {transfers:?}");
    assert_eq!(transfers[0]["callee_id"], SERGEY, "{transfers:?}");
    assert_eq!(transfers[0]["status"], 200, "{transfers:?}");

    // A second call, hung up from the window while my phone rings: through the team server to
    // the PBX, once.
    dial(&app, DIALLED_2);
    let call = world.wait_dial_to(CALLEE_2);
    assert_eq!(call["from"].as_str(), Some(ANNA), "callerId: {call}");
    let key = call["key"].as_u64().unwrap();
    let row = wait_phase(&app, CALLEE_2, "PickUp");
    let leg = row["leg"].as_str().unwrap().to_owned();
    app.click(&format!(
        "ul.live-calls > li.live-call[data-leg=\"{leg}\"] button.danger"
    ));
    world
        .sim
        .wait_call("the PBX to end the call", key, |c| c["phase"] == "ended");
    let hang_ups: Vec<_> = world
        .requests("terminateCall")
        .into_iter()
        .filter(|r| r["leg_id"] == leg.as_str())
        .collect();
    assert_eq!(hang_ups.len(), 1, "one terminateCall: {hang_ups:?}");
    wait_phase(&app, CALLEE_2, "Ended");
    supervisor.wait_event("the supervisor to see it end", |e| {
        e["kind"] == "callEnded" && whose_call_to(e, CALLEE_2).is_some()
    });

    // And it is in the history.
    app.show_screen("history");
    let row = app.wait_js(
        "the history row",
        "const r = document.querySelector(`table.history tbody tr[data-leg=\"${arguments[0]}\"]`);
         return r ? r.textContent : null",
        vec![json!(leg)],
    );
    assert!(
        digits(row.as_str().unwrap()).contains("8121406030"),
        "{row}"
    );
    app.shot("team-calls-history");
    wait_for("nothing else dialled", || {
        if world.dials().len() == 2 {
            Ok(())
        } else {
            Err(format!("{:?}", world.dials()))
        }
    });
}
