//! Numbers that reach the app from outside its window: `tel:`, `callto:` and `trubka:` links
//! (from the system, or from a second instance that hands its arguments over), the global
//! hotkey and the tray's "dial clipboard". Each ends in the main window's dialer, filled in;
//! dialling then takes the operator's confirmation when the settings ask for it.

use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::broadcast;
use url::Url;

use crate::ipc::events::{DIAL_REQUEST, JOIN_REQUEST};
use crate::ipc::{DialRequest, readable};

/// What a link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Dial this number.
    Dial(String),
    /// The browser's answer to a sign-in (`trubka://signin?code=…&state=…`).
    SignIn(Url),
    /// A team invite (`trubka://join?server=…&code=…`), to confirm in the main window.
    Join(String),
}

/// Sign-in answers that arrived as links, for a sign-in waiting on one.
#[derive(Debug, Clone)]
pub struct SignInLinks {
    tx: broadcast::Sender<Url>,
}

impl Default for SignInLinks {
    fn default() -> Self {
        SignInLinks {
            tx: broadcast::channel(4).0,
        }
    }
}

impl SignInLinks {
    /// Listens for the next sign-in answers.
    pub fn subscribe(&self) -> broadcast::Receiver<Url> {
        self.tx.subscribe()
    }

    fn deliver(&self, url: Url) {
        if self.tx.send(url).is_err() {
            tracing::warn!("a sign-in answer arrived with no sign-in waiting for it");
        }
    }
}

/// Reads one link. Anything that is not a `tel:`, `callto:` or `trubka:` link with a number,
/// or a sign-in answer, is refused with the reason.
pub fn parse(text: &str) -> Result<Link, String> {
    let text = text.trim();
    let (scheme, rest) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not a link"))?;
    let number = match scheme.to_ascii_lowercase().as_str() {
        "tel" | "callto" => {
            // `tel:` may carry parameters after `;` (RFC 3966); `callto://` adds slashes.
            let rest = rest.trim_start_matches('/');
            rest.split(';').next().unwrap_or_default().to_owned()
        }
        "trubka" => {
            let url = Url::parse(text).map_err(|e| format!("{text:?} is not a valid link: {e}"))?;
            let what = url
                .host_str()
                .map(str::to_owned)
                .unwrap_or_else(|| url.path().trim_start_matches('/').to_owned());
            match what.split('/').next().unwrap_or_default() {
                "signin" => return Ok(Link::SignIn(url)),
                // Checked by the core when the window asks to confirm it; the host is shown.
                "join" => return Ok(Link::Join(text.to_owned())),
                // The raw, still percent-encoded value: it is decoded once below, like a
                // `tel:` link's. `query_pairs` would decode it (and read `+` as a space, as in
                // a form), so a second decoding would turn `%252B` into `+`.
                "dial" => raw_query_value(&url, "number")
                    .or_else(|| {
                        url.path_segments()
                            .and_then(|mut s| s.next_back().map(str::to_owned))
                    })
                    .unwrap_or_default(),
                other => return Err(format!("trubka:{other} is not something the app does")),
            }
        }
        other => return Err(format!("{other}: links are not handled by Trubka")),
    };
    let number = percent_encoding::percent_decode_str(&number).decode_utf8_lossy();
    if number.trim().is_empty() {
        return Err(format!("{text:?} carries no number"));
    }
    Ok(Link::Dial(number.trim().to_owned()))
}

/// The value of `key` in the link's query as written, percent-encoding and `+` kept.
fn raw_query_value(url: &Url, key: &str) -> Option<String> {
    url.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

/// Acts on the links among a process's arguments (the first instance's own, or a second
/// instance's handed over): dial requests go to the main window, sign-in answers to the
/// sign-in waiting for them.
pub fn handle_args<R: Runtime>(app: &AppHandle<R>, args: &[String], confirm: bool) {
    for arg in args
        .iter()
        .filter(|a| a.contains(':') && !a.starts_with('-'))
    {
        handle(app, arg, confirm);
    }
}

/// Acts on one link.
pub fn handle<R: Runtime>(app: &AppHandle<R>, link: &str, confirm: bool) {
    match parse(link) {
        Ok(Link::Dial(number)) => request_dial(app, number, confirm, "link"),
        Ok(Link::SignIn(url)) => app.state::<SignInLinks>().deliver(url),
        Ok(Link::Join(invite)) => request_join(app, invite),
        Err(why) => tracing::warn!(%why, "a link was not followed"),
    }
}

/// Brings the main window forward with `number` in its dialer.
pub fn request_dial<R: Runtime>(app: &AppHandle<R>, number: String, confirm: bool, source: &str) {
    let request = DialRequest {
        readable: readable(&number),
        number,
        confirm,
        source: source.to_owned(),
    };
    super::show_main(app);
    app.state::<PendingDial>().set(Some(request.clone()));
    if let Err(e) = DIAL_REQUEST.emit_to(app, super::MAIN_WINDOW, &request) {
        tracing::warn!(error = %e, "the dialer was not given the number");
    }
}

/// Brings the main window forward to confirm joining the team a link invites to. Nothing is
/// sent before the person confirms the server's host there.
pub fn request_join<R: Runtime>(app: &AppHandle<R>, invite: String) {
    super::show_main(app);
    app.state::<PendingJoin>().set(Some(invite.clone()));
    if let Err(e) = JOIN_REQUEST.emit_to(app, super::MAIN_WINDOW, &invite) {
        tracing::warn!(error = %e, "the window was not given the invite");
    }
}

/// An invite link the main window has not yet taken (a link that started the app).
#[derive(Debug, Default)]
pub struct PendingJoin(std::sync::Mutex<Option<String>>);

impl PendingJoin {
    fn set(&self, invite: Option<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = invite;
    }

    /// Takes the invite, so it is acted on once.
    pub fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A dial request the main window has not yet taken (it may still be loading when a link
/// starts the app).
#[derive(Debug, Default)]
pub struct PendingDial(std::sync::Mutex<Option<DialRequest>>);

impl PendingDial {
    fn set(&self, request: Option<DialRequest>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = request;
    }

    /// Takes the request, so it is acted on once.
    pub fn take(&self) -> Option<DialRequest> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(link: &str) -> String {
        match parse(link) {
            Ok(Link::Dial(n)) => n,
            other => panic!("{link}: {other:?}"),
        }
    }

    #[test]
    fn phone_links_in_their_usual_spellings_give_the_number() {
        assert_eq!(dial("tel:+79219462761"), "+79219462761");
        assert_eq!(dial("tel:+7-921-946-27-61;ext=12"), "+7-921-946-27-61");
        assert_eq!(dial("TEL:8%20921%20946%2027%2061"), "8 921 946 27 61");
        assert_eq!(dial("callto://+79219462761"), "+79219462761");
        assert_eq!(dial("callto:89219462761"), "89219462761");
        assert_eq!(dial("trubka://dial/79219462761"), "79219462761");
        assert_eq!(dial("trubka://dial?number=%2B79219462761"), "+79219462761");
    }

    #[test]
    fn a_plus_in_a_link_is_kept_and_the_number_is_decoded_once() {
        // Form decoding would read `+` as a space; the number would then be dialled as Russian.
        assert_eq!(dial("trubka:dial?number=+442071234567"), "+442071234567");
        assert_eq!(dial("trubka://dial?number=+442071234567"), "+442071234567");
        assert_eq!(
            dial("trubka://dial?number=%2B442071234567"),
            "+442071234567"
        );
        assert_eq!(
            dial("trubka:dial?lang=en&number=%2B44%2020%207123%204567"),
            "+44 20 7123 4567"
        );
        // `%25` is a percent sign: decoding twice would turn `%252B7` into `+7`.
        assert_eq!(
            dial("trubka:dial?number=%252B79219462761"),
            "%2B79219462761"
        );
        assert_eq!(dial("trubka://dial/%252B79219462761"), "%2B79219462761");
        assert_eq!(dial("trubka://dial/+442071234567"), "+442071234567");
        assert_eq!(dial("tel:+442071234567"), "+442071234567");
        assert_eq!(dial("tel:%252B7921"), "%2B7921");
        assert_eq!(dial("callto:+442071234567"), "+442071234567");
    }

    #[test]
    fn sign_in_answers_are_told_apart_and_other_links_refused() {
        assert!(matches!(
            parse("trubka://signin?code=c&state=s"),
            Ok(Link::SignIn(_))
        ));
        assert!(
            parse("https://example.com")
                .unwrap_err()
                .contains("not handled")
        );
        assert!(parse("tel:").unwrap_err().contains("no number"));
        assert!(parse("trubka://format-disk").is_err());
        let invite = "trubka://join?server=https%3A%2F%2Fteam.example.ru&code=ABCD";
        assert_eq!(parse(invite), Ok(Link::Join(invite.to_owned())));
        assert!(parse("no link at all").is_err());
    }
}
