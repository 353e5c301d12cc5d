//! The Today card while calls are live (issue #14 item 17): calls that have started count at
//! once, and the card says how many are in progress, instead of "No calls yet today" until the
//! first one ends.

use serde_json::json;

use crate::app::App;
use crate::sim::is_ringing;

const CALLERS: [&str; 3] = ["79031112233", "79161234567", "79257654321"];

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn calls_in_progress_count_on_the_today_card_before_any_ends() {
    let app = App::start("today_card");
    let me = app.workplace();
    app.wait_js(
        "the Today card",
        "const s = document.getElementById('today-chart-summary'); return s ? s.textContent : null",
        vec![],
    );

    for caller in CALLERS {
        let call = app.sim().incoming(caller, None, json!({"manual": true}));
        app.sim()
            .wait_call("the call to ring me", call.key, |c| is_ringing(c, &me));
    }

    app.to_main();
    // The card counts the live calls as the list shows them, and the day's calls include them.
    let card = app.wait_js(
        "the Today card to count the calls in progress",
        "const rows = document.querySelectorAll('ul.live-calls > li.live-call:not(.ended)').length;
         const live = document.getElementById('today-live');
         const figure = document.querySelector('#today-calls dd');
         const summary = document.getElementById('today-chart-summary');
         if (!live || !figure || !summary || rows < 3) return null;
         if (!live.textContent.includes(String(rows))) return null;
         if (Number(figure.textContent) < 3) return null;
         return { rows, live: live.textContent, calls: figure.textContent, summary: summary.textContent };",
        vec![],
    );
    app.shot("today-live");
    let live = card["live"].as_str().unwrap_or_default();
    let rows = card["rows"].as_u64().unwrap_or_default();
    assert_eq!(
        live,
        format!("{rows} calls in progress"),
        "the card says how many are live: {card}"
    );
    let summary = card["summary"].as_str().unwrap_or_default();
    assert!(
        !summary.contains("No calls yet today"),
        "the chart does not say there were no calls: {card}"
    );
}
