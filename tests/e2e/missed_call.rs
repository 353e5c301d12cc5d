//! Scenario 3: a caller gives up before anyone answers. The operator gets a native notification
//! ("Missed call", with the caller's name and number), the number waits in the callback queue,
//! and calling back from the queue dials it and clears it.

use serde_json::json;

use crate::app::{App, digits, wait_for};
use crate::notifications;
use crate::sim::is_ringing;

const CALLER: &str = "79031112233";
const CALLER_NAME: &str = "Васильева Мария";

/// The callback queue's row for `number`: whether it is there, found by the digits it shows.
const QUEUE_ROW: &str = "const q = document.getElementById('callbacks');
  if (!q) return null;
  const rows = [...q.querySelectorAll('li, tr, [data-number]')]
    .filter(r => r.querySelector('button') && r.textContent.replace(/\\D/g, '').includes(arguments[0]));
  return rows.length ? rows[0].textContent : null;";

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_missed_call_notifies_and_waits_in_the_callback_queue_until_called_back() {
    let app = App::start("missed_call");
    let me = app.workplace();
    let mark = notifications::mark();

    let call = app.sim().incoming(
        CALLER,
        Some(CALLER_NAME),
        json!({"manual": true, "caller_gives_up_ms": 1500}),
    );
    app.sim()
        .wait_call("the call to ring me", call.key, |c| is_ringing(c, &me));
    let incoming = notifications::wait(
        "the incoming call's notification",
        mark,
        &["Incoming call", "Входящий звонок"],
        &[CALLER_NAME],
    );
    assert!(
        digits(&incoming).contains(&CALLER[1..]),
        "the notification carries the number: {incoming}"
    );
    app.sim()
        .wait_call("the caller to give up", call.key, |c| c["phase"] == "ended");
    let missed = notifications::wait(
        "the missed call's notification",
        mark,
        &["Missed call", "Пропущенный звонок"],
        &[CALLER_NAME],
    );
    assert!(digits(&missed).contains(&CALLER[1..]), "{missed}");

    // The number waits in the callback queue.
    app.show_screen("history");
    app.wait_js(
        "the number in the callback queue",
        QUEUE_ROW,
        vec![json!(&CALLER[1..])],
    );
    app.shot("callbacks");

    // Call back from the queue: the PBX is asked to dial the number from my workplace.
    app.js(
        "const q = document.getElementById('callbacks');
         const row = [...q.querySelectorAll('li, tr, [data-number]')]
           .find(r => r.querySelector('button') && r.textContent.replace(/\\D/g, '').includes(arguments[0]));
         row.querySelector('button').setAttribute('data-e2e-call-back', '');",
        vec![json!(&CALLER[1..])],
    );
    app.click("#callbacks button[data-e2e-call-back]");
    let back = wait_for("makeCall back to the caller", || {
        app.sim()
            .calls(false)
            .into_iter()
            .find(|c| {
                c["direction"] == "outgoing"
                    && digits(c["to"].as_str().unwrap_or("")).contains(&CALLER[1..])
            })
            .ok_or_else(|| "no call back yet".to_owned())
    });
    assert_eq!(back["from"].as_str(), Some(me.as_str()), "{back}");
    let key = back["key"].as_u64().unwrap();
    let make_call_id = back["make_call_id"].as_str().unwrap().to_owned();
    app.sim().answer(&make_call_id, &me);
    app.sim().wait_call("the PBX to call the number", key, |c| {
        c["phase"] == "callee_ringing"
    });
    app.sim().answer(&make_call_id, "callee");
    app.sim()
        .wait_call("the call back connected", key, |c| c["phase"] == "talking");
    app.sim().hangup(&make_call_id, "callee");
    app.sim()
        .wait_call("the call back ended", key, |c| c["phase"] == "ended");

    app.show_screen("history");
    app.wait_js(
        "the queue to forget the number",
        &format!("return (() => {{ {QUEUE_ROW} }})() === null ? true : null"),
        vec![json!(&CALLER[1..])],
    );
}
