//! The measuring program (`tests/e2e/run --measure`): prints figures, asserts nothing about
//! time. It is an ignored test of this binary so that it shares the harness; the runner runs it
//! alone and the scenarios without it.
//!
//! - cold start: process spawn (the WebDriver session request) until the main window's document
//!   is complete with the Calls screen rendered, over fresh profiles; and where that time goes:
//!   the shell's milestones from its log (main window made, desktop set up, popup prepared, core
//!   started) and the page's (navigation start, DOM ready, the `calls-screen` mark, load end);
//! - idle memory: after a minute in demo mode with no calls, the resident set of the app and
//!   every process below it (WebKit's web and network processes), by PID tree from /proc; beside
//!   it, measured the same way over the same minute, WebKitGTK's own MiniBrowser showing
//!   `about:blank` — the floor any app built on this web view starts from;
//! - webhook to popup: the PBX's `trying` and `showing` notifications of an incoming call that
//!   rings my workplace, POSTed to the relay's hook, until the popup shows the caller, p50/p99;
//!   and the legs of that way: POST → the shell shows the popup (relay, stream, the core's
//!   pipeline, the shell's event) → the shell is done showing → the page has rendered the call
//!   (`popup-call` mark) and is visible (`popup-visible`) → WebDriver sees it.
//!
//! `E2E_COLD_STARTS`, `E2E_IDLE_SECS` and `E2E_POPUP_CALLS` change the counts (10, 60, 200).
//! The machine's load (`/proc/loadavg`) is printed before and after each figure.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::app::{App, Options, digits, wait_for, wait_for_within};

/// The shell's milestones are logged at debug level.
const LOG: &str = "info,trubka_app=debug";
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
    load("before");
    cold_start(count("E2E_COLD_STARTS", 10));
    load("after the cold starts");
    let app = App::start_with(
        "measure",
        Options {
            manual: false,
            log: LOG,
            ..Options::default()
        },
    );
    idle_memory(&app, count("E2E_IDLE_SECS", 60));
    load("after the idle minute");
    webhook_to_popup(&app, count("E2E_POPUP_CALLS", 200));
    load("after the popups");
}

fn load(when: &str) {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load {when}: {}", avg.trim());
}

/// Milliseconds since the epoch.
fn epoch_ms(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

/// The time of a tracing log line (`2026-12-03T09:01:34.100839Z …`, colours and all) in ms
/// since the epoch.
fn log_time(line: &str) -> Option<f64> {
    let plain = strip_ansi(line);
    let stamp = plain.split_whitespace().next()?;
    let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    let sec = t.next()?.parse::<f64>().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days as f64 * 24.0 + h) * 60.0 + min) * 60_000.0 + sec * 1000.0)
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The app's log lines so far.
fn app_log(app: &App) -> Vec<String> {
    std::fs::read_to_string(app.home_dir().join("app.log"))
        .unwrap_or_default()
        .lines()
        .map(strip_ansi)
        .collect()
}

/// The time of the first log line that contains `what`, in ms after `origin`.
fn logged_after(log: &[String], what: &str, origin: f64) -> Option<f64> {
    log.iter()
        .find(|l| l.contains(what))
        .and_then(|l| log_time(l))
        .map(|t| t - origin)
}

/// A stage's spread over the runs: min, median, max (runs without it are left out).
fn spread(name: &str, values: &[Option<f64>]) -> String {
    let mut v: Vec<f64> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return format!("{name}: not seen");
    }
    v.sort_by(f64::total_cmp);
    let median = v[(v.len() - 1) / 2];
    format!(
        "{name}: min {:.1}, median {median:.1}, max {:.1} ms (n={})",
        v[0],
        v[v.len() - 1],
        v.len()
    )
}

fn cold_start(runs: u64) {
    let mut times = Vec::new();
    // Each stage in ms after the spawn, run by run.
    let stages = [
        "main window made",
        "desktop set up",
        "page: navigation start",
        "page: response end",
        "page: DOM interactive",
        "page: Calls screen rendered (mark)",
        "page: load event end",
        "main page load finished (shell)",
        "popup window prepared",
        "core started",
    ];
    let mut seen: Vec<Vec<Option<f64>>> = vec![Vec::new(); stages.len()];
    for run in 0..runs {
        let app = App::launch(
            "measure-cold",
            Options {
                log: LOG,
                ..Options::default()
            },
        );
        let spawned = epoch_ms(SystemTime::now()) - app.spawned_at.elapsed().as_secs_f64() * 1000.0;
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
        let page = app
            .wd
            .execute(
                "const n = performance.getEntriesByType('navigation')[0];
                 const m = performance.getEntriesByName('calls-screen')[0];
                 return [performance.timeOrigin, n ? n.responseEnd : null, n ? n.domInteractive : null,
                         m ? m.startTime : null, n && n.loadEventEnd > 0 ? n.loadEventEnd : null];",
                vec![],
            )
            .unwrap_or(Value::Null);
        let at = |i: usize| page.get(i).and_then(Value::as_f64);
        let origin = at(0);
        let from_origin = |i: usize| Some(origin? + at(i)? - spawned);
        // The core starts in the background: give it a moment to say so (an app built before
        // it logged that says nothing, and its stage is left out).
        let waiting = Instant::now();
        let log = loop {
            let log = app_log(&app);
            if log.iter().any(|l| l.contains("the core started"))
                || waiting.elapsed() > Duration::from_secs(5)
            {
                break log;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let row = [
            logged_after(&log, "the main window is made", spawned),
            logged_after(&log, "the desktop is set up", spawned),
            origin.map(|o| o - spawned),
            from_origin(1),
            from_origin(2),
            from_origin(3),
            from_origin(4),
            logged_after(&log, "window=main event=Finished", spawned),
            logged_after(&log, "the popup window is prepared", spawned),
            logged_after(&log, "the core started", spawned),
        ];
        let shown: Vec<String> = row
            .iter()
            .map(|v| v.map_or("-".to_owned(), |v| format!("{v:.0}")))
            .collect();
        println!(
            "  start {run}: seen at {} — stages (ms): {}",
            ms(painted),
            shown.join(" / ")
        );
        for (i, v) in row.into_iter().enumerate() {
            seen[i].push(v);
        }
    }
    times.sort();
    println!(
        "cold start to the Calls screen, {runs} fresh profiles: min {}, median {}, max {}",
        ms(times[0]),
        ms(percentile(&times, 50.0)),
        ms(*times.last().unwrap())
    );
    println!("  where the time goes, ms after the spawn:");
    for (name, values) in stages.iter().zip(&seen) {
        println!("    {}", spread(name, values));
    }
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

/// One call's way to the popup, in ms: when it was POSTed (since the epoch), and after that,
/// when the page had rendered it and was visible (its marks), and when WebDriver saw it.
struct PopupTimes {
    leg: String,
    sent_at: f64,
    page_call: Option<f64>,
    page_visible: Option<f64>,
    seen: f64,
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
    let mut legs: Vec<PopupTimes> = Vec::new();
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
        let sent_at = epoch_ms(SystemTime::now());
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
        let marks = app
            .wd
            .execute(
                "const at = (n) => { const m = performance.getEntriesByName(n)[0];
                                     return m ? performance.timeOrigin + m.startTime : null; };
                 return [at('popup-call'), at('popup-visible')];",
                vec![],
            )
            .unwrap_or(Value::Null);
        let mark = |i: usize| marks.get(i).and_then(Value::as_f64).map(|t| t - sent_at);
        legs.push(PopupTimes {
            leg: leg.clone(),
            sent_at,
            page_call: mark(0),
            page_visible: mark(1),
            seen: shown.as_secs_f64() * 1000.0,
        });
        post(&finished);
        app.to_main();
        app.wait_popup_gone("the popup to close after the call");
    }
    times.sort();
    println!(
        "webhook POST to popup showing the caller, {calls} calls: p50 {}, p99 {}, max {} (seen through WebDriver's polling)",
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0)),
        ms(*times.last().unwrap())
    );
    // The shell's part, from its log: when it began showing each call's popup and was done.
    let log = app_log(app);
    let mut shell: HashMap<&str, (Option<f64>, Option<f64>)> = HashMap::new();
    for line in &log {
        let Some(at) = line.find("leg=") else {
            continue;
        };
        let leg = line[at + 4..].split_whitespace().next().unwrap_or_default();
        let entry = shell.entry(leg).or_default();
        if line.contains("popup: showing") && entry.0.is_none() {
            entry.0 = log_time(line);
        } else if line.contains("popup: shown") && entry.1.is_none() {
            entry.1 = log_time(line);
        }
    }
    let mut stages: [Vec<Option<f64>>; 5] = Default::default();
    for t in &legs {
        let (showing, shown) = shell.get(t.leg.as_str()).copied().unwrap_or_default();
        stages[0].push(showing.map(|at| at - t.sent_at));
        stages[1].push(shown.map(|at| at - t.sent_at));
        stages[2].push(t.page_call);
        stages[3].push(t.page_visible);
        stages[4].push(Some(t.seen));
    }
    // The same moment as WebDriver's look (the page is visible and shows the caller), timed by
    // the page itself: WebDriver's polling (a switch to the popup and a script per look, through
    // tauri-driver, on the web thread the popup shares) adds its own delay to every figure above.
    let mut by_page: Vec<Duration> = legs
        .iter()
        .filter_map(|t| Some(t.page_call?.max(t.page_visible.unwrap_or(0.0))))
        .map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))
        .collect();
    by_page.sort();
    if !by_page.is_empty() {
        println!(
            "webhook POST to popup showing the caller, timed by the page (visible and showing the call), {} calls: p50 {}, p99 {}, max {}",
            by_page.len(),
            ms(percentile(&by_page, 50.0)),
            ms(percentile(&by_page, 99.0)),
            ms(*by_page.last().unwrap())
        );
    }
    println!("  where the time goes, ms after the POST (p50 / p99 / max):");
    let names = [
        "the shell begins showing (relay, stream, pipeline, event)",
        "the shell is done (emit, place, show)",
        "the page has rendered the call (popup-call mark)",
        "the page is visible (popup-visible mark)",
        "WebDriver sees it",
    ];
    for (name, values) in names.iter().zip(&stages) {
        let mut v: Vec<Duration> = values
            .iter()
            .flatten()
            .map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))
            .collect();
        v.sort();
        if v.is_empty() {
            println!("    {name}: not seen");
            continue;
        }
        println!(
            "    {name}: {} / {} / {} (n={})",
            ms(percentile(&v, 50.0)),
            ms(percentile(&v, 99.0)),
            ms(*v.last().unwrap()),
            v.len()
        );
    }
}
