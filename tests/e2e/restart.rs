//! Restarting the app (what the account wizard does after saving an account) leaves exactly one
//! app running, and that one is the single instance: the old process lets go of the
//! single-instance name before the new one asks for it, so the new one neither exits at once
//! (finding the old name still held) nor leaves the system without an instance, and the old one
//! shuts its core down on the way out.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::app::{App, alive, run_env, wait_for_within};

/// The app processes running with this home directory, other than `except`.
pub(crate) fn apps_under(home: &Path, except: u32) -> Vec<u32> {
    let app = run_env().app.canonicalize().unwrap();
    let wanted = format!("HOME={}", home.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| *pid != except)
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
        })
        .collect()
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_restart_leaves_one_app_running_and_it_is_the_single_instance() {
    let app = App::start("restart");
    let old = app.pid().expect("the launcher wrote the app's pid");
    let home = app.home_dir().to_path_buf();

    // The wizard's last step, as the window does it; the answer never comes, the process goes.
    let _ = app.wd.execute(
        "setTimeout(() => window.__TAURI_INTERNALS__.invoke('restart_app'), 50); return true;",
        vec![],
    );
    wait_for_within("the old process to exit", Duration::from_secs(15), || {
        if alive(old) {
            Err("still running".to_owned())
        } else {
            Ok(())
        }
    });
    let new = wait_for_within(
        "the restarted app",
        Duration::from_secs(15),
        || match apps_under(&home, old).as_slice() {
            [pid] => Ok(*pid),
            none_or_many => Err(format!("app processes: {none_or_many:?}")),
        },
    );
    if let Some(pids) = &run_env().pids_file {
        // The runner stops it too if this test fails half-way.
        let mut list = std::fs::read_to_string(pids).unwrap_or_default();
        list.push_str(&format!("{new}\n"));
        std::fs::write(pids, list).unwrap();
    }
    // The old process went through the app's exit: its core shut down (the call log closed, the
    // demo's servers stopped) before the new one started.
    let log = std::fs::read_to_string(home.join("app.log")).unwrap_or_default();
    assert!(
        log.contains("the core has shut down"),
        "the old process exited without shutting its core down:\n{log}"
    );

    // It stays: it did not take itself for a second instance of the one that just left.
    std::thread::sleep(Duration::from_secs(3));
    assert!(alive(new), "the restarted app exited: see restart-app.log");

    // And it holds the single-instance name: a second start hands its link over and exits.
    let (status, stderr) = app.second_instance("tel:+79219462761");
    assert!(
        status.success(),
        "the second instance failed: {status}\n{stderr}"
    );
    assert!(alive(new), "the restarted app is the one still running");
    assert_eq!(apps_under(&home, 0), vec![new]);

    let _ = Command::new("kill").arg(new.to_string()).status();
    wait_for_within("the restarted app to stop", Duration::from_secs(10), || {
        if alive(new) {
            Err("still running".to_owned())
        } else {
            Ok(())
        }
    });
}
