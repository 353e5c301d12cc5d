//! Presence and availability end to end (issue #16, items 5–6): two seats of one team — the real
//! app (Иванова Анна) and the `trubka` CLI (Петров Сергей, whose open stream keeps him online).
//! A call to the team that Сергей answers makes the app's Team panel show him talking; a call
//! ringing at Анна's then offers him in the transfer picker last and marked busy; Анна's own
//! availability is set from the header and reaches the team server. The world is team_world.rs's:
//! a simulator and a relay in team mode, no demo anywhere.

use serde_json::{Value, json};
use team_api::Role;

use crate::app::{App, wait_for};
use crate::sim::is_ringing;
use crate::team_world::{ANNA, ANNA_NAME, Cli, SERGEY, TeamWorld};

const SERGEY_NAME: &str = "Петров Сергей";
const CALLER: &str = "79219462761";
const CALLER_2: &str = "78121406030";

/// The Team panel's row of `seat`: its classes and its two badges' classes, once `pred` holds.
fn wait_row(app: &App, what: &str, seat: i64, pred: impl Fn(&Value) -> bool) -> Value {
    wait_for(what, || {
        let row = app.js(
            "const r = document.querySelector(`#screen-team li.colleague[data-seat=\"${arguments[0]}\"]`);
             if (!r) return null;
             return {
               classes: r.className,
               presence: r.querySelector('.badge.presence').className,
               availability: r.querySelector('.badge.availability').className,
               text: r.textContent,
             };",
            vec![json!(seat)],
        );
        if !row.is_null() && pred(&row) {
            Ok(row)
        } else {
            Err(row.to_string())
        }
    })
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_call_to_one_seat_shows_talking_in_the_others_team_panel_and_the_transfer_picker_marks_them_busy()
 {
    let world = TeamWorld::start();
    let anna = world.add_seat(ANNA_NAME, ANNA, Role::Operator);
    let sergey = world.add_seat(SERGEY_NAME, SERGEY, Role::Operator);

    // Сергей's app: the CLI, joined and following the team's events (its stream keeps him online).
    let mut colleague = Cli::new("sergey");
    colleague.join(&world.invite(&sergey));
    colleague.follow_events();

    // Анна: the real app, joined by the link. The Team tab appears in team mode.
    let app = world.joined_app("team_presence", &anna);
    app.wait_js(
        "the Team tab (team mode)",
        "const t = document.getElementById('tab-team'); return t && !t.hidden ? true : null",
        vec![],
    );
    app.show_screen("team");
    let row = wait_row(
        &app,
        "Сергей in the Team panel, free and available",
        sergey.id,
        |r| {
            r["presence"].as_str().unwrap_or("").contains("free")
                && r["availability"]
                    .as_str()
                    .unwrap_or("")
                    .contains("available")
        },
    );
    assert!(row["text"].as_str().unwrap().contains(SERGEY_NAME), "{row}");
    assert!(
        !row["text"].as_str().unwrap().contains(CALLER),
        "no caller's number in the panel: {row}"
    );
    app.shot("team-presence-free");

    // A call to the team rings the first routing group (Анна and Сергей); Сергей answers it.
    let first = world
        .sim
        .incoming(CALLER, Some("Иван Петров"), json!({"manual": true}));
    world
        .sim
        .wait_call("the call to ring Сергей", first.key, |c| {
            is_ringing(c, SERGEY)
        });
    world.sim.answer(&first.leg_id, SERGEY);
    let row = wait_row(
        &app,
        "Сергей talking in Анна's Team panel",
        sergey.id,
        |r| r["presence"].as_str().unwrap_or("").contains("talking"),
    );
    assert!(row["classes"].as_str().unwrap().contains("busy"), "{row}");
    assert!(
        !row["text"].as_str().unwrap().contains("Иван"),
        "presence says what, never who with: {row}"
    );
    app.shot("team-presence-talking");

    // A second call rings at Анна's: the transfer picker offers Сергей last, marked busy.
    let second = world.sim.incoming(CALLER_2, None, json!({"manual": true}));
    world
        .sim
        .wait_call("the second call to ring Анна", second.key, |c| {
            is_ringing(c, ANNA)
        });
    app.show_screen("calls");
    let transfer = app.wait_js(
        "the ringing call's Transfer button",
        "const b = [...document.querySelectorAll('ul.live-calls > li.live-call')]
           .filter(li => li.textContent.replace(/\\D/g, '').includes(arguments[0]))
           .map(li => li.querySelector('.actions button:not(.danger)'))
           .find(b => b && !b.disabled);
         if (!b) return null;
         b.setAttribute('data-pick', 'transfer');
         return true;",
        vec![json!(&CALLER_2[1..])],
    );
    assert_eq!(transfer, json!(true));
    app.click("button[data-pick=transfer]");
    let options = app.wait_js(
        "the transfer picker to mark Сергей busy",
        "const d = document.querySelector('dialog.transfer');
         if (!d || !d.open) return null;
         const o = [...d.querySelectorAll('ul.transfer-options button.option')];
         const s = o.find(b => b.textContent.includes(arguments[0]));
         if (!s || !s.classList.contains('busy')) return null;
         return o.map(b => ({ text: b.textContent, classes: b.className,
                              mark: b.querySelector('.option-mark')?.textContent ?? null }));",
        vec![json!(SERGEY_NAME)],
    );
    let options = options.as_array().unwrap().clone();
    let last = options.last().unwrap();
    assert!(
        last["text"].as_str().unwrap().contains(SERGEY_NAME),
        "the busy colleague comes last: {options:?}"
    );
    assert!(last["mark"].is_string(), "and is marked: {options:?}");
    app.shot("team-presence-transfer-picker");
    app.js(
        "document.querySelector('dialog.transfer').close(); return true;",
        vec![],
    );

    // Анна takes a break from the header: the team server has it, and her colleague hears it.
    app.js(
        "const s = document.getElementById('my-availability');
         s.value = 'break'; s.dispatchEvent(new Event('change', {bubbles: true})); return true;",
        vec![],
    );
    colleague.wait_event("Сергей's app to hear Анна is on a break", |e| {
        e["kind"] == "colleague" && e["seat"] == anna.id && e["availability"] == "break"
    });
    app.shot("team-presence-break");
}
