//! The admin's day in the console, in a real Chromium against the real relay and simulator:
//! sign in, connect МТТ, add a seat and invite it, the CLI joins, a call comes and goes on the
//! wallboard, the seat is revoked, and the audit log has it all; then every page's screens.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::screens;
use crate::world::{ADMIN, ADMIN_PASSWORD, ANNA, CLIENT_ID, CLIENT_SECRET, Cli, OLGA, World, http};

/// The operator the admin adds (the simulator's first workplace).
const OPERATOR: &str = "Иванова Анна";
/// The supervisor the admin makes with the CLI, and her console password.
const SUPERVISOR: &str = "Смирнова Ольга";
const SUPERVISOR_PASSWORD: &str = "the supervisor's own password";
/// Who calls the team.
const CALLER: &str = "79219462761";

/// Signs in with the sign-in form as a person does.
pub fn sign_in(browser: &Browser, login: &str, password: &str) {
    browser.open("/admin/signin");
    browser.type_into("#signin-login", login);
    browser.type_into("#signin-password", password);
    browser.click("#signin-form button[type=submit]");
    browser.wait_js(
        "the console after signing in",
        "return document.querySelector('nav.side') && location.pathname !== '/admin/signin' ? location.pathname : null",
    );
}

/// The id of the seat row whose name is `name` on the Seats page.
fn seat_row(browser: &Browser, name: &str) -> String {
    browser
        .wait_js(
            &format!("{name}'s row in the seats table"),
            &format!(
                "const tr = [...document.querySelectorAll('#seats-table tbody tr[data-seat]')]
                   .find(tr => tr.querySelector('.name')?.textContent === {});
                 return tr ? tr.dataset.seat : null",
                serde_json::to_string(name).unwrap()
            ),
        )
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
#[ignore = "needs Chromium, chromedriver and the relay's binaries: tests/console-e2e/run"]
fn the_admin_runs_the_team_from_the_console() {
    let world = World::start();
    let browser = Browser::start(&world.base);

    // Signed out, any page is the sign-in page.
    browser.open("/admin/seats");
    browser.wait_js(
        "the sign-in page instead of Seats",
        "return location.pathname === '/admin/signin' && document.getElementById('signin-form') ? true : null",
    );
    screens::sign_in_page(&browser);

    // A wrong password is refused on the page, and the session cookie is never readable by it.
    browser.remember("en", "light");
    browser.open("/admin/signin");
    browser.type_into("#signin-login", ADMIN);
    browser.type_into("#signin-password", "not the password at all");
    browser.click("#signin-form button[type=submit]");
    browser.wait_js(
        "the refusal said on the sign-in page",
        "const s = document.querySelector('#signin-form .form-status.error'); return s && s.textContent ? s.textContent : null",
    );
    sign_in(&browser, ADMIN, ADMIN_PASSWORD);
    let cookies = browser.js("return document.cookie", vec![]);
    assert!(
        !cookies
            .as_str()
            .unwrap_or_default()
            .contains("trubka_console"),
        "the session cookie is HttpOnly: {cookies}"
    );
    assert_eq!(browser.text("#person .person-name"), ADMIN);

    // Integration: the form gives МТТ's sign-in link; the admin opens it (the simulator approves
    // at once and returns to the relay's Redirect URI, where the relay finishes the connection).
    browser.click("#nav-integration");
    browser.type_into("#int-client", CLIENT_ID);
    browser.type_into("#int-secret", CLIENT_SECRET);
    browser.click("#int-connect button[type=submit]");
    let authorize = browser.wait_js(
        "the authorize link",
        "return document.getElementById('int-authorize-link')?.href || null",
    );
    let landing = http()
        .get(authorize.as_str().unwrap())
        .send()
        .expect("the authorize link");
    assert!(
        landing.status().is_success(),
        "the relay's landing after МТТ's sign-in: {}",
        landing.status()
    );
    assert_eq!(
        browser.js("return document.getElementById('int-secret').value", vec![]),
        json!(""),
        "the secret leaves the form once sent"
    );
    browser.wait_js(
        "the integration shown connected",
        "return document.querySelector('#int-state .badge-int-connected') ? true : null",
    );
    let page = browser.js("return document.body.textContent", vec![]);
    assert!(
        !page.as_str().unwrap().contains(CLIENT_SECRET),
        "the secret is never shown again"
    );

    // A seat and its invite; the CLI joins with the link the page shows.
    browser.click("#nav-seats");
    browser.click("#seat-add");
    browser.type_into("#seat-name", OPERATOR);
    browser.type_into("#seat-workplace", "883 140");
    browser.click("#seat-form button[type=submit]");
    // The relay names the field it refuses; the page shows it there. (A workplace is not a
    // SIP ID with a space.) Then the right one.
    browser.wait_js(
        "the workplace's error next to its field",
        "const e = document.getElementById('seat-workplace-error'); return e && !e.hidden && e.textContent ? e.textContent : null",
    );
    browser.type_into("#seat-workplace", ANNA);
    browser.click("#seat-form button[type=submit]");
    let link = browser.wait_js(
        "the invite's link",
        "return document.getElementById('invite-link')?.value || null",
    );
    let link = link.as_str().unwrap().to_owned();
    assert!(link.starts_with("trubka://join?"), "{link}");
    browser.shot("seats-invite-en-light-1280x720");
    browser.click("#invite-done");
    let cli = Cli::new();
    let joined = cli.join(&link);
    assert_eq!(joined["seat"]["name"], OPERATOR, "{joined}");
    browser.open("/admin/seats");
    let id = seat_row(&browser, OPERATOR);
    browser.wait_js(
        "the seat shown joined",
        &format!(
            "const tr = document.querySelector('#seats-table tr[data-seat=\"{id}\"]');
             return tr && /Joined/.test(tr.textContent) ? true : null"
        ),
    );

    // A call: on the wallboard while it rings and talks, gone once it ends.
    browser.click("#nav-wallboard");
    browser.element("#wall-live.connected");
    let call = world.incoming(CALLER);
    browser.wait_js(
        "the call on the wallboard",
        "return document.querySelector('#wall-calls tbody tr[data-leg]') ? true : null",
    );
    world.answer(&call, ANNA);
    browser.wait_js(
        "the call talking at the operator's seat",
        "const tr = document.querySelector('#wall-calls tbody tr.call-talking'); return tr ? tr.textContent : null",
    );
    screens::live_wallboard(&browser);
    world.hangup(&call, "caller");
    crate::world::wait_for(
        "the call to leave the wallboard",
        Duration::from_secs(60),
        || {
            let rows = browser.js(
                "return document.querySelectorAll('#wall-calls tbody tr[data-leg]').length",
                vec![],
            );
            if rows == json!(0) {
                Ok(())
            } else {
                Err(format!("{rows} rows"))
            }
        },
    );
    browser.wait_js(
        "the answered call counted for the operator today",
        "const tr = [...document.querySelectorAll('#wall-operators tbody tr')].find(tr => tr.textContent.includes('Иванова Анна'));
         return tr && tr.children[4].textContent === '1' ? true : null",
    );

    // The phonebook and tags, through their forms (the screens below show them filled).
    browser.click("#nav-phonebook");
    browser.click("#contact-add");
    browser.type_into("#contact-name", "ООО «Ромашка»");
    browser.type_into("#contact-company", "Ромашка");
    browser.type_into("#contact-numbers", "+7 921 946-27-61");
    browser.click("#contact-form button[type=submit]");
    browser.wait_js(
        "the contact in the phonebook",
        "return document.querySelector('#phonebook-table tbody tr[data-contact]') ? true : null",
    );
    // An import: the file chosen as a person does (WebDriver types its path into the input).
    let csv = world.dir.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "name,phone\nИП Сидоров,+7 495 123-45-67\nМария Кузнецова,+7 912 345-67-89\n",
    )
    .unwrap();
    let file = browser.element("#import-file");
    browser.wd.send_keys(&file, csv.to_str().unwrap()).unwrap();
    browser.click("#import-form button[type=submit]");
    let imported = browser.wait_js(
        "the import's outcome",
        "const s = document.querySelector('#import-outcome .form-status.ok'); return s ? s.textContent : null",
    );
    assert!(
        imported.as_str().unwrap().contains('2'),
        "two contacts added: {imported}"
    );
    browser.wait_js(
        "three contacts in the phonebook",
        "return document.querySelectorAll('#phonebook-table tbody tr[data-contact]').length === 3 ? true : null",
    );
    browser.click("#nav-tags");
    browser.element("#tags-list li");
    for tag in ["Продажа", "Жалоба", "Перезвонить"] {
        browser.type_into("#tag-new", tag);
        browser.click("#tag-add");
    }
    browser.click("#tags-form button[type=submit]");
    browser.wait_js(
        "the tags saved",
        "const s = document.querySelector('#tags-form .form-status.ok'); return s && s.textContent ? true : null",
    );

    // Routing: the last rule off, saved; parking: the main number parked, at the PBX at once.
    browser.click("#nav-routing");
    browser.click("#routing-rules li[data-kind=unknown_caller] input[type=checkbox]");
    browser.click("#routing-form button[type=submit]");
    browser.wait_js(
        "the routing saved",
        "const s = document.querySelector('#routing-form .form-status.ok'); return s && s.textContent ? true : null",
    );
    browser.click("#nav-parking");
    browser.click(&format!(
        "#parking-table input[data-number=\"{}\"]",
        crate::world::MAIN_NUMBER
    ));
    let parked = browser.wait_js(
        "the main number parked",
        "const s = document.getElementById('parking-status'); return s && s.classList.contains('ok') ? s.textContent : (s && s.classList.contains('error') ? 'ERROR ' + s.textContent : null)",
    );
    assert!(
        !parked.as_str().unwrap_or_default().starts_with("ERROR"),
        "parking refused: {parked}"
    );

    // Revoke the seat, deleting the team's data on its computer.
    browser.open("/admin/seats");
    let id = seat_row(&browser, OPERATOR);
    browser.click(&format!(
        "#seats-table tr[data-seat=\"{id}\"] button[data-action=revoke]"
    ));
    browser.click("#revoke-wipe");
    browser.click("#revoke-confirm");
    browser.wait_js(
        "the seat shown revoked",
        &format!(
            "const tr = document.querySelector('#seats-table tr[data-seat=\"{id}\"]');
             return tr && tr.classList.contains('revoked') ? true : null"
        ),
    );

    // The audit log has all of it.
    browser.click("#nav-audit");
    for action in [
        "console.sign_in",
        "integration.connect",
        "seat.add",
        "seat.invite",
        "routing.set",
        "parking.set",
        "tags.set",
        "phonebook.add",
        "phonebook.import",
        "seat.revoke",
    ] {
        browser.wait_js(
            &format!("{action} in the audit log"),
            &format!(
                "return document.querySelector('#audit-table tbody tr[data-action=\"{action}\"]') ? true : null"
            ),
        );
    }

    screens::every_page(&browser);

    // A supervisor sees the wallboard, the seats (read-only) and the audit log, nothing else.
    world.relay_cli(&[
        "seats",
        "add",
        "--name",
        SUPERVISOR,
        "--workplace",
        OLGA,
        "--role",
        "supervisor",
    ]);
    world.admin_add(SUPERVISOR, SUPERVISOR_PASSWORD);
    browser.remember("en", "light");
    browser.open("/admin/wallboard");
    browser.click("#sign-out");
    browser.element("#signin-form");
    sign_in(&browser, SUPERVISOR, SUPERVISOR_PASSWORD);
    let nav = browser.js(
        "return [...document.querySelectorAll('nav.side a')].map(a => a.id)",
        vec![],
    );
    assert_eq!(
        nav,
        json!(["nav-wallboard", "nav-seats", "nav-audit"]),
        "a supervisor's pages"
    );
    browser.open("/admin/integration");
    browser.wait_js(
        "an admin page leading a supervisor to the wallboard",
        "return location.pathname === '/admin/wallboard' ? true : null",
    );
    browser.click("#nav-seats");
    browser.element("#seats-read-only");
    browser.element("#seats-table tbody tr[data-seat]");
    assert_eq!(
        browser.js(
            "return document.querySelectorAll('#seats-table button, #seat-add').length",
            vec![]
        ),
        json!(0),
        "no change offered to a supervisor"
    );
    browser.shot("supervisor-seats-en-light-1280x720");
    let violations = browser.axe();
    assert!(violations.is_empty(), "axe-core: {violations:?}");

    // Sign out everywhere: the session is over, every page is the sign-in page again.
    browser.click("#sign-out-everywhere");
    browser.element("#signin-form");
    browser.open("/admin/audit");
    browser.wait_js(
        "the sign-in page after signing out everywhere",
        "return location.pathname === '/admin/signin' && document.getElementById('signin-form') ? true : null",
    );
}
