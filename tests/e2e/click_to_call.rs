//! Scenario 1: click-to-call from the dialer. The PBX rings the operator's phone first (the
//! window says "pick up"), then the number ("calling"), then they talk (a running timer); the
//! operator hangs up from the window, the PBX ends the leg and the call lands in the history.
//! The dialer's status line follows the same call (pick up → calling → connected) and goes away
//! when it ends (issue #14 item 18).

use serde_json::{Value, json};

use crate::app::{App, digits, wait_for};
use crate::sim::leg_ids;

const DIALLED: &str = "8 (921) 946-27-61";
const CALLEE: &str = "79219462761";

/// The live call row showing `number`: its leg, phase classes and texts.
pub fn live_row(app: &App, number: &str) -> Result<Value, String> {
    let row = app
        .wd
        .execute(
            "for (const li of document.querySelectorAll('ul.live-calls > li.live-call[data-leg]')) {
               const n = li.querySelector('.number');
               if (n && n.textContent.replace(/\\D/g, '').includes(arguments[0])) {
                 const phase = li.querySelector('.phase');
                 const timer = li.querySelector('.timer');
                 return { leg: li.dataset.leg, phase: phase ? phase.className : '',
                          phaseText: phase ? phase.textContent : '',
                          timer: timer ? timer.textContent : '', text: li.textContent };
               }
             }
             return null;",
            vec![json!(digits(number))],
        )
        .map_err(|e| e.to_string())?;
    if row.is_null() {
        Err("no live call row for that number".into())
    } else {
        Ok(row)
    }
}

/// Whether a row's `.phase` carries `phase-<name>` (the class names are compared without case).
pub fn has_phase(row: &Value, name: &str) -> bool {
    let wanted = format!("phase-{}", name.to_lowercase());
    row["phase"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .any(|c| c.to_lowercase() == wanted)
}

/// Waits until the dialer's status line satisfies `pred`, and returns its text.
fn wait_status(app: &App, what: &str, pred: impl Fn(&str) -> bool) -> String {
    wait_for(&format!("the dialer's status to {what}"), || {
        let text = app.text("#dial-status").unwrap_or_default();
        if pred(&text) {
            Ok(text)
        } else {
            Err(format!("{text:?}"))
        }
    })
}

pub fn wait_phase(app: &App, number: &str, phase: &str) -> Value {
    wait_for(&format!("the live call in phase {phase}"), || {
        let row = live_row(app, number)?;
        if has_phase(&row, phase) {
            Ok(row)
        } else {
            Err(row.to_string())
        }
    })
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn dialling_rings_me_then_the_number_and_the_hang_up_reaches_the_pbx_and_the_history() {
    let app = App::start("click_to_call");
    let me = app.workplace();

    app.type_into("form.dialer #dialer", DIALLED);
    app.click("form.dialer button[type=submit]");

    // The PBX received makeCall from my workplace to the normalised number.
    let call = wait_for("makeCall at the simulator", || {
        app.sim()
            .calls(false)
            .into_iter()
            .find(|c| c["direction"] == "outgoing")
            .ok_or_else(|| "no outgoing call".to_owned())
    });
    assert_eq!(call["to"], CALLEE, "calleeId: {call}");
    assert_eq!(call["from"].as_str(), Some(me.as_str()), "callerId: {call}");
    let key = call["key"].as_u64().unwrap();
    let make_call_id = call["make_call_id"].as_str().unwrap().to_owned();

    let row = wait_phase(&app, CALLEE, "PickUp");
    let leg = row["leg"].as_str().unwrap().to_owned();
    let call = app.sim().call(key).unwrap();
    assert!(
        leg_ids(&call).contains(&leg),
        "the row's leg {leg} is one of the PBX's: {call}"
    );
    app.shot("dial-pickup");
    wait_status(&app, "say that my phone rings first", |s| {
        s.contains("rings first") && digits(s).contains("9219462761")
    });

    // I pick up my phone: the PBX calls the number.
    app.sim().answer(&make_call_id, &me);
    let row = wait_phase(&app, CALLEE, "Calling");
    assert!(
        digits(row["phaseText"].as_str().unwrap()).contains("9219462761"),
        "the calling phase names the number: {row}"
    );
    wait_status(&app, "follow the call to the number", |s| {
        s.starts_with("Calling") && !s.contains("rings first") && digits(s).contains("9219462761")
    });

    // The callee picks up: connected, and the timer runs.
    app.sim().answer(&leg, "callee");
    let row = wait_phase(&app, CALLEE, "Connected");
    let first = row["timer"].as_str().unwrap_or_default().to_owned();
    wait_for("the call timer to advance", || {
        let now = live_row(&app, CALLEE)?;
        let timer = now["timer"].as_str().unwrap_or_default();
        if !timer.is_empty() && timer != first {
            Ok(())
        } else {
            Err(format!("timer still {timer:?}"))
        }
    });
    app.shot("dial-connected");
    wait_status(&app, "say the call is connected", |s| {
        s.starts_with("Connected") && digits(s).contains("9219462761")
    });

    // Hang up from the window: the PBX ends the leg.
    app.click(&format!(
        "ul.live-calls > li.live-call[data-leg=\"{leg}\"] button.danger"
    ));
    let ended = app
        .sim()
        .wait_call("the PBX to end the call", key, |c| c["phase"] == "ended");
    assert!(ended["reason"].is_string(), "{ended}");
    let hang_ups = app.sim().leg_requests("terminateCall", &leg);
    assert_eq!(
        hang_ups.len(),
        1,
        "one terminateCall for the leg: {hang_ups:?}"
    );
    wait_phase(&app, CALLEE, "Ended");
    wait_status(&app, "go away with the call", str::is_empty);

    // The call is in the history.
    app.show_screen("history");
    let row = app.wait_js(
        "the history row",
        "const r = document.querySelector(`table.history tbody tr[data-leg=\"${arguments[0]}\"]`);
         return r ? r.textContent : null",
        vec![json!(leg)],
    );
    assert!(
        digits(row.as_str().unwrap()).contains("9219462761"),
        "the history row shows the number: {row}"
    );
}
