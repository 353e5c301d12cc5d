//! The wallboard's figures (BENCHMARKS.md), in Chromium against the real relay: first paint with
//! 200 seats and 100 live calls (navigation start to the board painted, from the page's
//! `wallboard-first-paint` performance mark), and how long a call takes from the simulator's
//! `/incoming` to its row on the wallboard (a MutationObserver notes when each leg's row appears).
//! Run by `tests/console-e2e/run --bench` only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::browser::Browser;
use crate::journey::sign_in;
use crate::world::{ADMIN, ADMIN_PASSWORD, World, wait_for};

const SEATS: usize = 200;
const CALLS: usize = 100;
const PAINTS: usize = 7;
const EVENTS: usize = 50;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn rows(browser: &Browser) -> u64 {
    browser
        .js(
            "return document.querySelectorAll('#wall-calls tbody tr[data-leg]').length",
            vec![],
        )
        .as_u64()
        .unwrap_or(0)
}

#[test]
#[ignore = "a benchmark: tests/console-e2e/run --bench"]
fn wallboard_figures() {
    let world = World::start();
    // The admin's seat is the first; the rest are operators.
    for i in 1..SEATS {
        world.relay_cli(&[
            "seats",
            "add",
            "--name",
            &format!("Оператор {i:03}"),
            "--workplace",
            &format!("8831400{i:08}"),
            "--role",
            "operator",
        ]);
    }
    for i in 0..CALLS {
        world.incoming(&format!("7921{i:07}"));
    }
    let browser = Browser::start(&world.base);
    sign_in(&browser, ADMIN, ADMIN_PASSWORD);
    browser.open("/admin/wallboard");
    wait_for(
        "every call on the wallboard",
        Duration::from_secs(120),
        || match rows(&browser) {
            n if n as usize >= CALLS => Ok(()),
            n => Err(format!("{n} rows")),
        },
    );
    let operators = browser.js(
        "return document.querySelectorAll('#wall-operators tbody tr[data-seat]').length",
        vec![],
    );
    assert_eq!(operators, json!(SEATS), "every seat on the board");

    let mut paints = Vec::new();
    for _ in 0..PAINTS {
        browser.open("/admin/wallboard");
        let at = browser.wait_js(
            "the first paint's mark",
            &format!(
                "const m = performance.getEntriesByName('wallboard-first-paint')[0];
                 return m && document.querySelectorAll('#wall-calls tbody tr[data-leg]').length >= {CALLS} ? m.startTime : null"
            ),
        );
        paints.push(at.as_f64().unwrap());
    }
    paints.sort_by(f64::total_cmp);

    // Events: each call's row appears; the page notes when (Date.now, the test's clock too).
    browser.js(
        "window.__seen = {};
         const body = document.querySelector('#wall-calls tbody');
         const note = () => { for (const tr of body.querySelectorAll('tr[data-leg]')) window.__seen[tr.dataset.leg] ??= Date.now(); };
         note();
         new MutationObserver(note).observe(body, { childList: true });",
        vec![],
    );
    let mut latencies = Vec::new();
    for i in 0..EVENTS {
        let sent = now_ms();
        let started = world.sim_post(
            "/incoming",
            json!({"from": format!("7922{i:07}"), "to": crate::world::MAIN_NUMBER}),
        );
        let leg = started["leg_id"].as_str().unwrap().to_owned();
        let seen = browser.wait_js(
            "the new call's row",
            &format!("return window.__seen[{leg:?}] ?? null"),
        );
        latencies.push(seen.as_f64().unwrap() - sent);
    }
    latencies.sort_by(f64::total_cmp);
    let line = format!(
        "wallboard first paint ({SEATS} seats, {CALLS} calls, {PAINTS} loads): median {:.0} ms, max {:.0} ms; \
         event to wallboard ({EVENTS} calls): median {:.0} ms, p99 {:.0} ms",
        percentile(&paints, 50.0),
        paints[paints.len() - 1],
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
    );
    println!("{line}");
    std::fs::write(crate::world::artifacts().join("bench.txt"), &line).unwrap();
    assert!(
        paints[paints.len() - 1] <= 1000.0,
        "first paint over 1 s: {line}"
    );
    assert!(
        percentile(&latencies, 99.0) <= 500.0,
        "event p99 over 500 ms: {line}"
    );
}
