//! Issue #14 item 11: the CLI opened the browser by hand and judged by the opener's exit status
//! (Explorer exits 1 on success, so the CLI said it failed). Both answers of the seam, and the
//! system opener run in a child process whose PATH holds stand-in launchers (PATH is
//! process-wide, so it is never changed in this process).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::*;

const URL: &str = "https://oauth.example.invalid/authorize?client_id=c&state=s";

#[test]
fn an_open_browser_is_reported_as_opened_and_the_address_is_not_printed() {
    let mut asked = None;
    let handed = hand_over(URL, false, |url| {
        asked = Some(url.to_owned());
        Ok(())
    });
    assert_eq!(handed, Handover::Opened);
    assert_eq!(asked.as_deref(), Some(URL));
    assert_eq!(handed.address(URL), None);
    assert_eq!(handed.note(), "Sign in in the browser window that opened.");
}

#[test]
fn a_browser_that_could_not_open_leaves_the_address_to_open_by_hand() {
    let handed = hand_over(URL, false, |_| {
        Err(io::Error::new(io::ErrorKind::NotFound, "no launcher"))
    });
    assert_eq!(handed, Handover::ByHand(Some("no launcher".to_owned())));
    assert_eq!(handed.address(URL), Some(URL));
    assert!(handed.note().contains("could not be opened (no launcher)"));
    assert!(handed.note().contains("Open the address above"));
}

#[test]
fn no_browser_never_asks_the_browser() {
    let handed = hand_over(URL, true, |_| panic!("the browser was asked"));
    assert_eq!(handed, Handover::ByHand(None));
    assert_eq!(handed.address(URL), Some(URL));
    assert!(handed.note().starts_with("Open the address above"));
}

/// Runs only inside [`system_browser_in`]'s child process: opens the address with the system
/// opener and exits 0 when it reported success, 3 when it reported failure.
#[test]
fn system_browser_child() {
    let Ok(url) = std::env::var("TRUBKA_BROWSER_CHILD_URL") else {
        return;
    };
    std::process::exit(match system_browser(&url) {
        Ok(()) => 0,
        Err(_) => 3,
    });
}

/// Writes `name` into `dir`: a stand-in launcher that appends its arguments to `log` and exits
/// with `code`.
fn launcher(dir: &Path, name: &str, log: &Path, code: u8) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexit {code}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Whether the system opener, run in a child process with only `dir` on its PATH, said it
/// opened the address.
fn system_browser_in(dir: &Path) -> bool {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "browser::tests::system_browser_child",
            "--nocapture",
        ])
        .env("PATH", dir)
        .env("TRUBKA_BROWSER_CHILD_URL", URL)
        .env_remove("WSL_DISTRO_NAME")
        .env_remove("WSL_INTEROP")
        .status()
        .unwrap();
    match status.code() {
        Some(0) => true,
        Some(3) => false,
        other => panic!("the child test ended with {other:?}"),
    }
}

/// Waits (generously) for a launcher run in the background to have written its log.
fn logged(log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if !text.is_empty() || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_desktop_without_xdg_open_still_opens_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("opened.log");
    launcher(dir.path(), "gio", &log, 0);
    assert!(
        system_browser_in(dir.path()),
        "gio opened the address, yet the opener said it failed"
    );
    assert_eq!(logged(&log).trim(), format!("open {URL}"));
}

#[cfg(target_os = "linux")]
#[test]
fn with_no_launcher_at_all_the_opener_says_so() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!system_browser_in(dir.path()));
}
