//! The relay's Debian package (`packaging/relay`, `./dev relay-deb`): installed into a scratch
//! root with `dpkg-deb -x`, it must put the binary, the hardened unit and the two folders where
//! issue #15 and DEPLOY.md say, with the right modes, and `systemd-analyze verify` must accept the
//! unit.
//!
//! With `TRUBKA_RELAY_DEB=<file.deb>` (as `./dev test` runs it after `./dev relay-deb`) the real
//! package is checked, and its binary must accept the very arguments the unit starts it with.
//! Without it the package is built here by `packaging/relay/build-deb` around a stand-in binary,
//! which checks everything but the binary itself. Skipped, saying so, only when `dpkg-deb` is
//! missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use repo_tests::repo_root;

const UNIT: &str = "usr/lib/systemd/system/trubka-relay.service";
const BINARY: &str = "usr/bin/trubka-relay";
const CONFIG_DIR: &str = "etc/trubka-relay";
const DATA_DIR: &str = "var/lib/trubka-relay";

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The package to check, and whether it holds the real relay.
fn package(scratch: &Path) -> (PathBuf, bool) {
    if let Some(deb) = std::env::var_os("TRUBKA_RELAY_DEB") {
        let deb = PathBuf::from(deb);
        assert!(
            deb.is_file(),
            "TRUBKA_RELAY_DEB={} is no file",
            deb.display()
        );
        return (deb, true);
    }
    eprintln!(
        "packaging: TRUBKA_RELAY_DEB is not set, so the package is built around a stand-in binary; \
         `./dev test` checks the real one (./dev relay-deb)"
    );
    let stand_in = scratch.join("stand-in/trubka-relay");
    std::fs::create_dir_all(stand_in.parent().unwrap()).unwrap();
    std::fs::write(&stand_in, "#!/bin/sh\necho stand-in\n").unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(Command::new(repo_root().join("packaging/relay/build-deb"))
        .arg(&stand_in)
        .arg(scratch.join("out")));
    (PathBuf::from(text(&out).trim()), false)
}

/// `[Section] Key=Value` lines of a unit; a key given twice keeps both values.
fn unit_sections(unit: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut sections: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current = String::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_owned();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not a Key=Value line: {line}"));
        sections
            .entry(current.clone())
            .or_default()
            .push((key.trim().to_owned(), value.trim().to_owned()));
    }
    sections
}

fn value<'a>(section: &'a [(String, String)], key: &str) -> Option<&'a str> {
    section
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The sandboxing lines of the unit DEPLOY.md recommends (its `[Service]` block).
fn deploy_hardening() -> Vec<(String, String)> {
    let deploy = std::fs::read_to_string(repo_root().join("crates/relay/DEPLOY.md")).unwrap();
    let start = deploy
        .find("[Service]")
        .expect("DEPLOY.md shows a systemd unit");
    let block = &deploy[start..];
    let block = &block[..block.find("```").expect("the unit's block ends")];
    let hardening = unit_sections(block)
        .remove("Service")
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| {
            [
                "Protect",
                "Private",
                "Restrict",
                "ReadWritePaths",
                "NoNewPrivileges",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || matches!(key.as_str(), "LockPersonality" | "MemoryDenyWriteExecute")
        })
        .collect::<Vec<_>>();
    assert!(
        hardening.len() >= 8,
        "DEPLOY.md's hardening lines were not found: {hardening:?}"
    );
    hardening
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Runs postinst `configure` with the commands it changes the system through replaced by stubs
/// that only write down their arguments: first as a fresh install (no user, no overrides), then
/// with the user there and the admin's `dpkg-statoverride` on both folders.
fn postinst_runs(scratch: &Path, postinst: &Path) {
    let stubs = scratch.join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let log = scratch.join("stub-calls");
    for (tool, status) in [
        ("adduser", "0"),
        ("chown", "0"),
        ("chmod", "0"),
        ("systemctl", "0"),
        ("getent", "${STUB_GETENT:-2}"),
        ("dpkg-statoverride", "${STUB_OVERRIDE:-1}"),
    ] {
        let stub = stubs.join(tool);
        std::fs::write(
            &stub,
            format!("#!/bin/sh\necho \"{tool} $*\" >> \"$STUB_LOG\"\nexit {status}\n"),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The stubs must be what postinst finds (and able to run), or it would change this machine.
    for tool in ["adduser", "chown", "chmod", "systemctl"] {
        let found = run(Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .env("PATH", &path));
        assert_eq!(
            PathBuf::from(text(&found).trim()),
            stubs.join(tool),
            "the {tool} stub comes first"
        );
    }
    run(Command::new(stubs.join("adduser")).env("STUB_LOG", &log));
    assert!(
        std::fs::read_to_string(&log).is_ok_and(|l| l.starts_with("adduser")),
        "the stubs run (a noexec scratch folder?)"
    );
    let configure = |extra: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&log);
        let out = run(Command::new("sh")
            .arg(postinst)
            .args(["configure", ""])
            .env("PATH", &path)
            .env("STUB_LOG", &log)
            .envs(extra.iter().copied()));
        (
            std::fs::read_to_string(&log).unwrap_or_default(),
            text(&out),
        )
    };

    let (calls, said) = configure(&[]);
    let adduser = calls
        .lines()
        .find(|l| l.starts_with("adduser "))
        .unwrap_or_else(|| panic!("no adduser: {calls}"));
    for arg in [
        "--system",
        "--group",
        "--home /var/lib/trubka-relay",
        "trubka-relay",
    ] {
        assert!(adduser.contains(arg), "{adduser}");
    }
    for dir in ["/etc/trubka-relay", "/var/lib/trubka-relay"] {
        assert!(
            calls.contains(&format!("chown trubka-relay:trubka-relay {dir}")),
            "{calls}"
        );
        assert!(calls.contains(&format!("chmod 0750 {dir}")), "{calls}");
    }
    assert!(said.contains("init"), "says what to do next: {said}");

    let (calls, _) = configure(&[("STUB_GETENT", "0"), ("STUB_OVERRIDE", "0")]);
    assert!(!calls.contains("adduser"), "the user exists: {calls}");
    assert!(
        !calls.contains("chown"),
        "the admin's overrides win: {calls}"
    );
}

#[test]
fn the_relay_package_installs_a_hardened_unit_and_its_folders() {
    if !have("dpkg-deb") {
        eprintln!("packaging: SKIPPED, dpkg-deb is missing (apt-get install dpkg)");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let (deb, real) = package(scratch.path());
    let root = scratch.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));

    // What the archive says: its name, its dependencies, every entry owned by root (postinst
    // hands the two folders to the relay's user once it exists).
    let fields = text(&run(Command::new("dpkg-deb")
        .arg("-f")
        .arg(&deb)
        .args(["Package", "Depends"])));
    assert!(fields.contains("Package: trubka-relay"), "{fields}");
    assert!(
        fields.contains("adduser"),
        "postinst needs adduser: {fields}"
    );
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    for line in listing.lines() {
        assert!(line.contains(" root/root "), "not owned by root: {line}");
    }
    let control = scratch.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system"), "{postinst}");
    for dir in ["/etc/trubka-relay", "/var/lib/trubka-relay"] {
        assert!(postinst.contains(dir), "postinst hands over {dir}");
    }
    assert!(postinst.contains("chown \"$USER_NAME:$USER_NAME\" \"$dir\""));
    assert!(postinst.contains("chmod 0750 \"$dir\""));
    for script in ["postinst", "prerm", "postrm"] {
        assert_eq!(mode(&control.join(script)), 0o755, "{script}");
    }
    postinst_runs(scratch.path(), &control.join("postinst"));

    // Where the files are, and their modes.
    for (path, expected) in [
        (BINARY, 0o755),
        (UNIT, 0o644),
        (CONFIG_DIR, 0o750),
        (DATA_DIR, 0o750),
        ("usr/share/doc/trubka-relay/README.Debian", 0o644),
        ("usr/share/doc/trubka-relay/copyright", 0o644),
    ] {
        assert_eq!(mode(&root.join(path)), expected, "{path}");
    }
    assert!(root.join(BINARY).is_file() && root.join(UNIT).is_file());
    assert!(root.join(CONFIG_DIR).is_dir() && root.join(DATA_DIR).is_dir());
    assert_eq!(
        std::fs::read_dir(root.join(CONFIG_DIR)).unwrap().count(),
        0,
        "no configuration ships: `init` writes it with a fresh hook"
    );

    // The unit: its user, DEPLOY.md's hardening, and the installed binary with the /etc and
    // /var/lib paths.
    let unit_text = std::fs::read_to_string(root.join(UNIT)).unwrap();
    let unit = unit_sections(&unit_text);
    let service = &unit["Service"];
    assert_eq!(value(service, "User"), Some("trubka-relay"));
    assert_eq!(value(service, "Group"), Some("trubka-relay"));
    assert_eq!(value(service, "DynamicUser"), None);
    for (key, expected) in deploy_hardening() {
        assert_eq!(
            value(service, &key),
            Some(expected.as_str()),
            "{key} as DEPLOY.md recommends"
        );
    }
    assert_eq!(value(service, "ProtectSystem"), Some("strict"));
    assert_eq!(
        value(service, "ReadWritePaths"),
        Some("/var/lib/trubka-relay")
    );
    assert_eq!(value(service, "StateDirectory"), Some("trubka-relay"));
    assert_eq!(value(service, "StateDirectoryMode"), Some("0750"));
    assert_eq!(value(service, "CapabilityBoundingSet"), Some(""));
    let exec: Vec<&str> = value(service, "ExecStart")
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(exec[0], "/usr/bin/trubka-relay", "{exec:?}");
    let after = |flag: &str| {
        exec.windows(2)
            .find(|w| w[0] == flag)
            .map(|w| w[1])
            .unwrap_or_else(|| panic!("ExecStart has no {flag}: {exec:?}"))
    };
    assert_eq!(after("--config"), "/etc/trubka-relay/relay.toml");
    assert_eq!(after("--database"), "/var/lib/trubka-relay/relay.sqlite3");
    assert!(exec.contains(&"serve"), "{exec:?}");
    assert_eq!(
        value(&unit["Unit"], "ConditionPathExists"),
        Some("/etc/trubka-relay/relay.toml")
    );
    assert_eq!(
        value(&unit["Install"], "WantedBy"),
        Some("multi-user.target")
    );

    // The real binary takes exactly the unit's arguments.
    if real {
        let out = run(Command::new(root.join(BINARY))
            .args(&exec[1..])
            .arg("--help"));
        assert!(text(&out).contains("--database"), "{}", text(&out));
    }

    // systemd's own reading of the unit, with ExecStart pointed into the scratch root (verify
    // insists that the command exists). It exits 0 even for unknown keys or bad values, so any
    // complaint about the file fails the test.
    if have("systemd-analyze") {
        let copy = scratch.path().join("verify/trubka-relay.service");
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        let installed = root.join(BINARY);
        std::fs::write(
            &copy,
            unit_text.replace(
                "ExecStart=/usr/bin/trubka-relay",
                &format!("ExecStart={}", installed.display()),
            ),
        )
        .unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        let complaints = String::from_utf8_lossy(&out.stderr);
        let about_unit: Vec<&str> = complaints
            .lines()
            .filter(|l| l.contains("trubka-relay"))
            .collect();
        assert!(
            out.status.success() && about_unit.is_empty(),
            "systemd-analyze verify: {complaints}"
        );
    } else {
        eprintln!("packaging: systemd-analyze is missing, the unit was not verified by systemd");
    }
}
