//! Team mode's supervisor in the window (issue #15 item 10): the app joined as a supervisor sees
//! a colleague's call — placed by the operator's own seat (the `trubka` CLI) through the team
//! server — in the Calls screen with whose it is (the directory's name and the workplace), and
//! may hang it up: the team server passes it to the PBX, once.

use serde_json::{Value, json};
use team_api::Role;

use crate::click_to_call::wait_phase;
use crate::team_calls::CALLEE;
use crate::team_world::{ANNA, ANNA_NAME, Cli, SERGEY, TeamWorld};

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_supervisor_sees_whose_call_it_is_in_the_calls_screen_and_hangs_it_up() {
    let world = TeamWorld::start();
    let anna = world.add_seat(ANNA_NAME, ANNA, Role::Operator);
    let sergey = world.add_seat("Петров Сергей", SERGEY, Role::Supervisor);

    let operator = Cli::new("operator");
    let joined = operator.join(&world.invite(&anna));
    assert_eq!(joined["seat"]["role"], "operator", "{joined}");
    let app = world.joined_app("team_supervisor", &sergey);

    // Anna dials from her terminal, through the team server.
    let dialled: Value =
        serde_json::from_str(&operator.run(&["call", "8 (921) 946-27-61", "--json"])).unwrap();
    let call = world.wait_dial_to(CALLEE);
    assert_eq!(call["from"].as_str(), Some(ANNA), "{call} {dialled}");

    // The supervisor's Calls screen shows it, not as his own, with whose it is.
    let row = wait_phase(&app, CALLEE, "PickUp");
    let leg = row["leg"].as_str().unwrap().to_owned();
    let whose = app.wait_js(
        "the row to say whose call it is",
        "const li = document.querySelector(`ul.live-calls > li.live-call[data-leg=\"${arguments[0]}\"]`);
         const w = li && li.querySelector('.whose');
         return w && !w.hidden && w.textContent ? w.textContent : null",
        vec![json!(leg)],
    );
    let whose = whose.as_str().unwrap();
    assert!(
        whose.contains(ANNA_NAME) && whose.contains(ANNA),
        "whose: {whose}"
    );
    let mine = app.js(
        "return document.querySelector(`ul.live-calls > li.live-call[data-leg=\"${arguments[0]}\"]`)
           .classList.contains('mine')",
        vec![json!(leg)],
    );
    assert_eq!(mine, json!(false), "not the supervisor's own call");
    // The Today card is about his day: the colleague's call is neither a call of his today nor
    // one of his in progress (it counted both).
    app.wait_js(
        "the Today card to count the supervisor's calls only",
        "const n = document.querySelector('#today-calls dd');
         return n && n.textContent === '0' && !document.getElementById('today-live') ? true : null",
        vec![],
    );
    app.shot("team-supervisor-calls");

    // He hangs it up from the window: the PBX ends it, asked once.
    app.click(&format!(
        "ul.live-calls > li.live-call[data-leg=\"{leg}\"] button.danger"
    ));
    let key = call["key"].as_u64().unwrap();
    world
        .sim
        .wait_call("the PBX to end the call", key, |c| c["phase"] == "ended");
    let hang_ups: Vec<_> = world
        .requests("terminateCall")
        .into_iter()
        .filter(|r| r["leg_id"] == leg.as_str())
        .collect();
    assert_eq!(hang_ups.len(), 1, "one terminateCall: {hang_ups:?}");
    assert_eq!(hang_ups[0]["status"], 200, "{hang_ups:?}");
    wait_phase(&app, CALLEE, "Ended");
}
