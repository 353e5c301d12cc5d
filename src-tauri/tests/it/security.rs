//! The window's security configuration, checked so that loosening it is a deliberate, visible
//! change: a strict CSP and capabilities that name exactly what the main window uses.

use std::path::PathBuf;

use serde_json::Value;

fn read_json(relative: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_csp_allows_no_inline_or_remote_script() {
    let conf = read_json("tauri.conf.json");
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    let all = csp.to_string();
    for loose in ["unsafe-inline", "unsafe-eval", "*;", "\"*\""] {
        assert!(!all.contains(loose), "the CSP contains {loose}: {all}");
    }
    assert_eq!(conf["app"]["withGlobalTauri"], false);
}

#[test]
fn the_main_window_is_granted_only_named_permissions() {
    let cap = read_json("capabilities/main.json");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    let permissions: Vec<&str> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in &permissions {
        assert!(
            !p.ends_with(":default") && !p.contains("allow-all") && !p.contains('*'),
            "{p} grants more than the window uses"
        );
    }
    for command in [
        "dial",
        "hang-up",
        "transfer",
        "live-calls",
        "history",
        "today",
        "workplaces",
    ] {
        assert!(
            permissions.contains(&format!("allow-{command}").as_str()),
            "the main window cannot call {command}"
        );
    }
}
