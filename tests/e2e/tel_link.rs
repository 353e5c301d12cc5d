//! Scenario 6: a `tel:` link opened while the app runs starts a second process, which hands the
//! link to the first one and exits; the number lands in the first one's dialer, waiting for the
//! operator to confirm (nothing is dialled by itself).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::app::{App, digits, run_env, wait_for_within};

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_tel_link_given_to_a_second_instance_reaches_the_first_ones_dialer() {
    let app = App::start("tel_link");
    let first_pid = app.pid();

    let started = Instant::now();
    let mut second = Command::new(&run_env().app)
        .arg("tel:+79219462761")
        .envs(app.vars())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_for_within(
        "the second instance to exit",
        Duration::from_secs(15),
        || {
            second
                .try_wait()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "still running".to_owned())
        },
    );
    let took = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut pipe) = second.stderr.take() {
        use std::io::Read as _;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(
        status.success(),
        "the second instance failed: {status}\n{stderr}"
    );
    eprintln!("the second instance handed the link over and exited in {took:?}");
    assert_eq!(
        app.pid(),
        first_pid,
        "the first instance is still the one running"
    );

    app.to_main();
    let value = app.wait_js(
        "the number in the first instance's dialer",
        "const d = document.getElementById('dialer');
         return d && d.value.replace(/\\D/g, '').includes('9219462761') ? d.value : null",
        vec![],
    );
    app.shot("tel-link");
    assert!(digits(value.as_str().unwrap()).ends_with("9219462761"));

    // Nothing is dialled until the operator confirms.
    std::thread::sleep(Duration::from_millis(1500));
    let outgoing: Vec<_> = app
        .sim()
        .calls(true)
        .into_iter()
        .filter(|c| c["direction"] == "outgoing")
        .collect();
    assert!(
        outgoing.is_empty(),
        "the link dialled by itself: {outgoing:?}"
    );
}
