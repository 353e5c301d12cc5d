//! Team mode when the team server is gone (issue #15 item 12): the popup, the dialer and the
//! link indicator say "the team server is unreachable — dial from your phone", the PBX never
//! hears of the action (nothing is sent again), and once the server is back dialling works.

use std::time::Duration;

use serde_json::json;
use team_api::Role;

use crate::app::{App, wait_for};
use crate::click_to_call::wait_phase;
use crate::team_calls::{CALLEE, DIALLED, dial};
use crate::team_world::{ANNA, ANNA_NAME, TeamWorld};

/// The words the dialer and the popup say (en.ts `errors.relay_unreachable`).
const UNREACHABLE: &str = "The team server is unreachable — dial from your phone.";
/// The link indicator's (en.ts `linkTeamUnreachable`).
const LINK_UNREACHABLE: &str = "The team server is unreachable — dial from your phone";
const CALLER: &str = "79219462761";

fn link_text(app: &App) -> String {
    app.to_main();
    app.text("header .link").unwrap_or_default()
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn with_the_team_server_gone_the_popup_dialer_and_link_say_dial_from_your_phone_and_the_pbx_hears_nothing()
 {
    let mut world = TeamWorld::start();
    let anna = world.add_seat(ANNA_NAME, ANNA, Role::Operator);
    let app = world.joined_app("team_unreachable", &anna);
    app.wait_js(
        "the link indicator to say connected",
        "const l = document.querySelector('header .link');
         return l && l.classList.contains('connected') ? l.textContent : null",
        vec![],
    );

    // A customer calls Anna's workplace: the Calls screen (and the popup) show it.
    let started = world.sim.incoming(CALLER, None, json!({"manual": true}));
    let row = wait_phase(&app, CALLER, "Ringing");
    let leg = row["leg"].as_str().unwrap().to_owned();

    app.wait_popup_with(CALLER);

    // The team server goes away.
    world.stop_relay();

    // Hanging up from the popup: it says so, and the PBX hears nothing.
    app.click("#popup-hangup");
    let said = wait_for("the popup to say the team server is unreachable", || {
        let text = app.text(".popup-status").unwrap_or_default();
        if text.contains("unreachable") {
            Ok(text)
        } else {
            Err(format!("{text:?}"))
        }
    });
    app.shot("team-unreachable-popup");
    assert_eq!(said, UNREACHABLE);
    app.to_main();

    // Hanging up from the window: it says so too, and the PBX hears nothing.
    app.click(&format!(
        "ul.live-calls > li.live-call[data-leg=\"{leg}\"] button.danger"
    ));
    let said = wait_for("the window to say the team server is unreachable", || {
        let text = app.text("#dial-status").unwrap_or_default();
        if text.contains("unreachable") {
            Ok(text)
        } else {
            Err(format!("{text:?}"))
        }
    });
    app.shot("team-unreachable-hang-up");
    assert_eq!(said, UNREACHABLE);
    assert!(
        world.requests("terminateCall").is_empty(),
        "the PBX heard a hang-up: {:?}",
        world.requests("terminateCall")
    );
    world.sim.hangup(&started.leg_id, "caller");
    app.js(
        "document.getElementById('dial-status').textContent = ''; return true;",
        vec![],
    );

    // Dialling from the window: the dialer says so, the indicator shows it.
    app.to_main();
    dial(&app, DIALLED);
    let said = wait_for("the dialer to say the team server is unreachable", || {
        let text = app.text("#dial-status").unwrap_or_default();
        if text.contains("unreachable") {
            Ok(text)
        } else {
            Err(format!("{text:?}"))
        }
    });
    assert_eq!(said, UNREACHABLE);
    wait_for("the link indicator to show it", || {
        let text = link_text(&app);
        if text == LINK_UNREACHABLE {
            Ok(())
        } else {
            Err(text)
        }
    });
    app.shot("team-unreachable-dialer");
    // Nothing was retried: the PBX never received a makeCall.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        world.dials().is_empty(),
        "the PBX placed a call: {:?}",
        world.dials()
    );

    // The server is back: the link says so again, and dialling works once more.
    world.start_relay();
    app.wait_js(
        "the link indicator to say connected again",
        "const l = document.querySelector('header .link');
         return l && l.classList.contains('connected') ? l.textContent : null",
        vec![],
    );
    dial(&app, DIALLED);
    let call = world.wait_dial_to(CALLEE);
    assert_eq!(call["from"].as_str(), Some(ANNA), "{call}");
    assert_eq!(world.dials().len(), 1, "{:?}", world.dials());
}
