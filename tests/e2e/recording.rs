//! Scenario 4: a recorded call's player in the history loads the simulator's MP3 and plays it.

use serde_json::json;

use crate::app::{App, wait_for};

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn the_history_player_loads_and_plays_the_recording() {
    let app = App::start("recording");
    let me = app.workplace();

    // A short recorded call from my workplace, played out by the simulated people on their own.
    let call = app.sim().post(
        "/outgoing",
        json!({
            "caller_id": me, "callee_id": "79219462761", "operator_answer_ms": 100,
            "callee_answer_ms": 100, "talk_ms": 1200, "record": true,
        }),
    );
    let key = call["key"].as_u64().unwrap();
    let leg = call["leg_id"].as_str().unwrap().to_owned();
    app.sim()
        .wait_call("the call to end", key, |c| c["phase"] == "ended");

    app.show_screen("history");
    // The row offers the recording; opening it shows the player (a row of its own) and plays.
    app.click(&format!(
        "table.history tbody tr[data-leg=\"{leg}\"] button.recording-toggle"
    ));
    let audio = format!("table.history tbody tr.player-row[data-leg=\"{leg}\"] audio");
    let src = app.wait_js(
        "the player's audio element",
        "const a = document.querySelector(arguments[0]); return a && a.src ? a.src : null",
        vec![json!(audio)],
    );
    let src = src.as_str().unwrap();
    assert!(
        src.contains("/records/") && src.ends_with(".mp3"),
        "the player points at the simulator's recording: {src}"
    );

    // The metadata loads (a duration) and the playhead moves.
    let state = wait_for("the recording to play", || {
        let state = app
            .wd
            .execute(
                "const a = document.querySelector(arguments[0]);
                 return { duration: a.duration, time: a.currentTime, paused: a.paused,
                          ready: a.readyState, error: a.error ? `${a.error.code} ${a.error.message}` : null };",
                vec![json!(audio)],
            )
            .map_err(|e| e.to_string())?;
        if let Some(error) = state["error"].as_str() {
            panic!("the player failed: {error} ({state})");
        }
        let duration = state["duration"].as_f64().unwrap_or(0.0);
        let time = state["time"].as_f64().unwrap_or(0.0);
        if duration > 0.0 && time > 0.2 {
            Ok(state)
        } else {
            Err(state.to_string())
        }
    });
    app.shot("player");
    // Pause is drawn as an SVG icon, never as a symbol character that the system's fonts may
    // lack (it showed a missing-glyph box under Xvfb).
    let toggle = app.js(
        "const b = document.querySelector(`tr.player-row[data-leg=\"${arguments[0]}\"] button.player-play`);
         return b ? { text: b.textContent, icon: !!b.querySelector('svg.icon-pause') } : null",
        vec![json!(leg)],
    );
    assert_eq!(
        toggle,
        json!({"text": "Pause", "icon": true}),
        "the Pause button is an SVG icon and its word"
    );
    let duration = state["duration"].as_f64().unwrap();
    assert!(
        (1.0..10.0).contains(&duration),
        "the recording is the simulator's 2.3 s phrase: {state}"
    );
}
