//! The `mtt-sim` binary: `serve`, the control subcommands against it, and `demo`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mtt-sim");

fn control(url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--control")
        .arg(url)
        .args(args)
        .output()
        .unwrap()
}

fn control_json(url: &str, args: &[&str]) -> Value {
    let out = control(url, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asks the child to stop the way a terminal or a service manager would.
fn terminate(child: &mut Child, signal: &str) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("mtt-sim did not stop on SIG{signal}");
}

#[test]
fn serve_prints_its_urls_and_the_control_subcommands_drive_it() {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let mut notice = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut notice)
        .unwrap();
    assert!(notice.contains("SIMULATOR"), "{notice}");
    for key in ["oauth", "api", "control"] {
        assert!(
            urls[key].as_str().unwrap().starts_with("http://127.0.0.1:"),
            "{urls}"
        );
    }
    let url = urls["control"].as_str().unwrap();

    let call = control_json(
        url,
        &[
            "incoming",
            "--from",
            "79161234567",
            "--to",
            "78005560251",
            "--manual",
        ],
    );
    let leg = call["leg_id"].as_str().unwrap();
    let calls = control_json(url, &["calls"]);
    assert_eq!(calls[0]["phase"], "ringing", "{calls}");
    assert_eq!(calls[0]["ringing"].as_array().unwrap().len(), 3);
    control_json(url, &["answer", "--call", leg, "--by", "883140777446532"]);
    assert_eq!(
        control_json(url, &["calls"])[0]["talking_with"],
        "883140777446532"
    );
    control_json(url, &["hangup", "--call", leg]);
    assert_eq!(control_json(url, &["calls"]), Value::Array(Vec::new()));
    let ended = control_json(url, &["calls", "--all"]);
    assert_eq!(ended[0]["reason"], "Terminate leg disconnected");

    let changed = control_json(
        url,
        &[
            "workplace",
            "add",
            "--id",
            "883140777999001",
            "--name",
            "Новый",
            "--terminal",
            "883140777999002",
        ],
    );
    assert_eq!(changed["changed"], true);
    assert_eq!(
        control_json(url, &["number", "remove", "78123334455"])["changed"],
        true
    );
    let timings = control_json(url, &["delays", "--parking-window-ms", "100"]);
    assert_eq!(timings["parking_window_ms"], 100);
    assert_eq!(control_json(url, &["delays"])["parking_window_ms"], 100);
    assert!(control_json(url, &["deliveries"]).is_array());

    let refused = control(url, &["answer", "--call", "no-such-call"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("404") && message.contains("unknown_call"),
        "{message}"
    );

    assert!(terminate(&mut child, "TERM").success());
    let unreachable = control(url, &["calls"]);
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("could not be reached"));
}

#[test]
fn control_subcommands_need_the_control_url() {
    let out = Command::new(BIN)
        .args(["calls"])
        .env_remove("MTT_SIM_CONTROL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--control"));
}

#[test]
fn demo_prints_one_line_per_notification_until_interrupted() {
    let mut child = Command::new(BIN)
        .args(["demo", "--rate", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(terminate(&mut child, "INT").success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains("MTT simulator demo"), "{out}");
    let trying = out.lines().filter(|l| l.contains(" trying ")).count();
    let showing = out.lines().filter(|l| l.contains(" showing ")).count();
    assert!(trying >= 5 && showing >= trying, "{out}");
    assert!(
        out.lines().any(|l| l.contains("incoming")) && out.lines().any(|l| l.contains("outgoing"))
    );
    assert!(
        out.trim_end().ends_with("notifications received. Bye."),
        "{out}"
    );
}

#[test]
fn serve_takes_the_clock_scale_and_the_refresh_token_mode_and_refuses_a_bad_scale() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--clock-scale",
            "86400",
            "--refresh-tokens",
            "repeat",
            "--access-lifetime-ms",
            "60000",
            "--refresh-lifetime-ms",
            "120000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let control = urls["control"].as_str().unwrap().to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (oauth, clock) = runtime.block_on(async {
        let get = |path: &str| {
            let url = format!("{control}{path}");
            async move {
                reqwest::get(url)
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        (get("/oauth").await, get("/clock").await)
    });
    assert_eq!(oauth["rotate_refresh_tokens"], false, "{oauth}");
    assert_eq!(oauth["repeat_kept_refresh_token"], true, "{oauth}");
    assert_eq!(oauth["access_lifetime_ms"], 60_000, "{oauth}");
    assert_eq!(oauth["refresh_lifetime_ms"], 120_000, "{oauth}");
    assert_eq!(clock["scale"], 86_400.0, "{clock}");
    let changed = control_json(
        &control,
        &[
            "oauth",
            "--refresh-tokens",
            "rotate",
            "--refresh-lifetime-ms",
            "5000",
        ],
    );
    assert_eq!(changed["rotate_refresh_tokens"], true, "{changed}");
    assert_eq!(changed["repeat_kept_refresh_token"], false, "{changed}");
    assert_eq!(changed["refresh_lifetime_ms"], 5000, "{changed}");
    assert_eq!(
        control_json(&control, &["oauth"])["refresh_lifetime_ms"],
        5000
    );
    let slowed = control_json(
        &control,
        &["clock", "--scale", "1", "--advance-ms", "60000"],
    );
    assert_eq!(slowed["scale"], 1.0, "{slowed}");
    let refused = Command::new(BIN)
        .args(["--control", &control, "clock", "--scale", "0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("400"));
    assert!(terminate(&mut child, "TERM").success());

    let out = Command::new(BIN)
        .args(["serve", "--clock-scale", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("clock scale"), "{message}");
}
