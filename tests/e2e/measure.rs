//! The measuring program (`tests/e2e/run --measure`): prints figures, asserts nothing about
//! time. It is an ignored test of this binary so that it shares the harness; the runner runs it
//! alone and the scenarios without it.
//!
//! - cold start: process spawn (the WebDriver session request) until the main window's document
//!   is complete with the Calls screen rendered, over fresh profiles;
//! - idle memory: after a minute in demo mode with no calls, the resident set of the app and
//!   every process below it (WebKit's web and network processes), by PID tree from /proc; beside
//!   it, measured the same way over the same minute, WebKitGTK's own MiniBrowser showing
//!   `about:blank` — the floor any app built on this web view starts from;
//! - webhook to popup: the PBX's `trying` and `showing` notifications of an incoming call that
//!   rings my workplace, POSTed to the relay's hook, until the popup shows the caller, p50/p99.
//!
//! `E2E_COLD_STARTS`, `E2E_IDLE_SECS` and `E2E_POPUP_CALLS` change the counts (5, 60, 200).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::app::{App, Options, digits, wait_for, wait_for_within};
use crate::sim::is_ringing;

fn count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "a measuring program, run by tests/e2e/run --measure"]
fn measure() {
    let app_path = &crate::app::run_env().app;
    println!("figures for {}", app_path.display());
    cold_start(count("E2E_COLD_STARTS", 5));
    let app = App::start_with(
        "measure",
        Options {
            manual: false,
            ..Options::default()
        },
    );
    idle_memory(&app, count("E2E_IDLE_SECS", 60));
    webhook_to_popup(&app, count("E2E_POPUP_CALLS", 200));
}

fn cold_start(runs: u64) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let app = App::launch("measure-cold", Options::default());
        let painted = wait_for_within("the Calls screen", Duration::from_secs(60), || {
            let ready = app
                .wd
                .execute(
                    "return document.readyState === 'complete' && !!document.querySelector('form.dialer #dialer')
                       && !!document.querySelector('ul.live-calls > li')",
                    vec![],
                )
                .map_err(|e| e.to_string())?;
            if ready == true {
                Ok(app.spawned_at.elapsed())
            } else {
                Err(ready.to_string())
            }
        });
        times.push(painted);
    }
    times.sort();
    println!(
        "cold start to the Calls screen, {runs} fresh profiles: min {}, median {}, max {}",
        ms(times[0]),
        ms(percentile(&times, 50.0)),
        ms(*times.last().unwrap())
    );
}

/// The app's process and every process below it, with their names.
fn process_tree(root: u32) -> Vec<(u32, String)> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: the name may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or_default();
        let ppid: u32 = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if state != "Z" {
            parents.push((pid, ppid, name));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    tree.iter()
        .filter_map(|pid| {
            parents
                .iter()
                .find(|p| p.0 == *pid)
                .map(|p| (p.0, p.2.clone()))
        })
        .collect()
}

/// A `kB` field of a /proc status-like file.
fn kb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn idle_memory(app: &App, secs: u64) {
    let mut floor = mini_browser();
    std::thread::sleep(Duration::from_secs(secs));
    let pid = app.pid().expect("the launcher wrote the app's pid");
    print_memory(
        &format!("idle memory after {secs} s in demo mode (no calls)"),
        pid,
    );
    match floor.as_mut() {
        Some(browser) => {
            print_memory(
                &format!("the floor: WebKitGTK's MiniBrowser on about:blank after {secs} s"),
                browser.id(),
            );
            let _ = browser.kill();
            let _ = browser.wait();
        }
        None => println!("the floor: no WebKitGTK MiniBrowser found, not measured"),
    }
}

/// WebKitGTK's own minimal browser, started on a blank page in this session.
fn mini_browser() -> Option<std::process::Child> {
    let path = std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .map(|dir| dir.path().join("webkit2gtk-4.1/MiniBrowser"))
        .find(|p| p.is_file())?;
    std::process::Command::new(path)
        .arg("about:blank")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

fn print_memory(what: &str, root: u32) {
    let (mut rss, mut pss) = (0, 0);
    let mut lines = Vec::new();
    for (pid, name) in process_tree(root) {
        let r = kb(&format!("/proc/{pid}/status"), "VmRSS:");
        let p = kb(&format!("/proc/{pid}/smaps_rollup"), "Pss:");
        rss += r;
        pss += p;
        lines.push(format!(
            "    {pid:>7} {name:<20} RSS {:>7.1} MiB  PSS {:>7.1} MiB",
            r as f64 / 1024.0,
            p as f64 / 1024.0
        ));
    }
    println!(
        "{what}: RSS {:.1} MiB, PSS {:.1} MiB in {} processes",
        rss as f64 / 1024.0,
        pss as f64 / 1024.0,
        lines.len()
    );
    for line in lines {
        println!("{line}");
    }
}

/// One real incoming call's notifications as the simulator sent them: `trying`, my
/// workplace's `showing`, and `finished`, to be replayed with fresh ids.
struct Shapes {
    leg: String,
    caller: String,
    trying: String,
    showing: String,
    finished: String,
}

fn record_shapes(app: &App) -> Shapes {
    let me = app.workplace();
    let caller = "79035550000";
    let call = app
        .sim()
        .incoming(caller, Some("Замер"), json!({"manual": true}));
    app.sim()
        .wait_call("the call to ring me", call.key, |c| is_ringing(c, &me));
    app.sim().hangup(&call.leg_id, "caller");
    app.sim()
        .wait_call("the call to end", call.key, |c| c["phase"] == "ended");
    let deliveries = wait_for("the call's notifications", || {
        let log = app.sim().get("/deliveries?limit=100000");
        let mine: Vec<Value> = log
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d["call_id"].as_str() == Some(call.leg_id.as_str()))
            .collect();
        if mine.iter().any(|d| d["state"] == "finished") {
            Ok(mine)
        } else {
            Err(format!("{} so far", mine.len()))
        }
    });
    let body = |state: &str, pred: &dyn Fn(&Value) -> bool| {
        deliveries
            .iter()
            .find(|d| d["state"] == state && pred(&d["body"]))
            .map(|d| d["body"].to_string())
            .unwrap_or_else(|| panic!("no {state} among {deliveries:#?}"))
    };
    Shapes {
        leg: call.leg_id.clone(),
        caller: caller.to_owned(),
        trying: body("trying", &|_| true),
        showing: body("showing", &|b| {
            b["result"]["callInfo"]["callee"]["id"].as_str() == Some(me.as_str())
        }),
        finished: body("finished", &|_| true),
    }
}

fn webhook_to_popup(app: &App, calls: u64) {
    let shapes = record_shapes(app);
    app.wait_popup_gone("the recording call's popup to close");
    let http = reqwest::blocking::Client::new();
    let post = |body: &str| {
        let response = http
            .post(&app.info().hook_url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        assert!(
            response.status().is_success(),
            "hook: {}",
            response.status()
        );
    };
    let mut times = Vec::new();
    let mut popup: Option<String> = None;
    for i in 0..calls {
        let number = format!("7903{:07}", 1_000_000 + i);
        let leg = format!(
            "{:08x}{}",
            0xe2e0_0000_u64 + i,
            &shapes.leg[8.min(shapes.leg.len())..]
        );
        let fresh = |body: &str| {
            body.replace(&shapes.leg, &leg)
                .replace(&shapes.caller, &number)
        };
        let (trying, showing, finished) = (
            fresh(&shapes.trying),
            fresh(&shapes.showing),
            fresh(&shapes.finished),
        );

        let sent = Instant::now();
        post(&trying);
        post(&showing);
        let shown = loop {
            if popup.is_none() {
                popup = app.popup_handle();
            }
            if let Some(handle) = &popup {
                if app.wd.switch_to(handle).is_err() {
                    popup = None;
                    continue;
                }
                let text = app
                    .wd
                    .execute(
                        "const n = document.getElementById('popup-number');
                         return document.visibilityState === 'visible' && n ? n.textContent : ''",
                        vec![],
                    )
                    .unwrap_or(Value::Null);
                if digits(text.as_str().unwrap_or_default()).contains(&number) {
                    break sent.elapsed();
                }
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "call {i}: no popup for {number}"
            );
        };
        times.push(shown);
        post(&finished);
        app.to_main();
        app.wait_popup_gone("the popup to close after the call");
    }
    times.sort();
    println!(
        "webhook POST to popup showing the caller, {calls} calls: p50 {}, p99 {}, max {} (polled through WebDriver, a few ms per look)",
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0)),
        ms(*times.last().unwrap())
    );
}
