//! The tray icon: the link's and the sign-in's health at a glance (a grey icon and a tooltip
//! that says what is wrong), and a menu to open the window, dial the copied number, switch
//! do-not-disturb (no popups), set the seat's availability (team mode) and quit. Closing the
//! main window leaves the app here.

use std::sync::Mutex;

use companion::settings::Language;
use companion::team::Availability;
use companion::{Companion, DomainEvent, Settings};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::core::AppCore;

/// The tray icon's id.
pub const TRAY: &str = "main";

const OPEN: &str = "open";
const DIAL_CLIPBOARD: &str = "dial-clipboard";
const DO_NOT_DISTURB: &str = "do-not-disturb";
const QUIT: &str = "quit";
const AVAILABILITY: &str = "availability";
/// The availability items' ids, in the menu's order.
const SET_AVAILABLE: &str = "availability-available";
const SET_BREAK: &str = "availability-break";
const SET_AWAY: &str = "availability-away";

/// What the tray shows: the link's state and whether API calls can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `connected`, `reconnecting`, `offline`, `refused`, or `starting` before the first report.
    pub link: String,
    /// Whether the sign-in holds.
    pub signed_in: bool,
    /// Whether the app is a team's seat (the link is to the team's server).
    pub team: bool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            link: "starting".into(),
            signed_in: true,
            team: false,
        }
    }
}

impl Health {
    /// Whether everything works.
    pub fn good(&self) -> bool {
        self.link == "connected" && self.signed_in
    }

    /// An action found the team server unreachable, whatever the link last said.
    pub fn action_failed(&mut self) {
        self.link = "unreachable".into();
        self.team = true;
    }

    /// An action was answered: an "unreachable" that an action put here gives way to the
    /// link's own last report (`link`, or connected when it has made none). Whether anything
    /// changed.
    pub fn action_answered(&mut self, link: Option<String>) -> bool {
        if self.link != "unreachable" {
            return false;
        }
        self.link = link.unwrap_or_else(|| "connected".into());
        true
    }

    /// The tooltip's words.
    pub fn describe(&self, russian: bool) -> String {
        let link = match (self.link.as_str(), russian) {
            // An action found the team server gone (the link may not have noticed yet).
            ("unreachable", false) => "the team server is unreachable — dial from your phone",
            ("unreachable", true) => "сервер команды недоступен — звоните с телефона",
            // A team's seat dials through its server: without it, the phone is the way.
            ("reconnecting" | "offline", false) if self.team => {
                "the team server is unreachable — dial from your phone"
            }
            ("reconnecting" | "offline", true) if self.team => {
                "сервер команды недоступен — звоните с телефона"
            }
            ("revoked", false) => "this team seat was revoked; the app no longer acts for the team",
            ("revoked", true) => "место в команде отозвано; приложение больше не действует",
            ("connected", false) => "live events connected",
            ("connected", true) => "события поступают",
            ("starting", false) => "starting",
            ("starting", true) => "запуск",
            ("reconnecting", false) => "reconnecting to the relay",
            ("reconnecting", true) => "переподключение к релею",
            ("refused", false) => "the relay refuses this app's key",
            ("refused", true) => "релей не принимает ключ приложения",
            (_, false) => "offline: no live events",
            (_, true) => "нет связи: события не поступают",
        };
        let session = match (self.signed_in, russian) {
            (true, _) => "",
            (false, false) => "; sign-in required",
            (false, true) => "; нужно войти заново",
        };
        format!("Trubka — {link}{session}")
    }
}

/// The menu's labels in one language.
struct Labels {
    availability: &'static str,
    available: &'static str,
    on_break: &'static str,
    away: &'static str,
    open: &'static str,
    dial: &'static str,
    do_not_disturb: &'static str,
    quit: &'static str,
}

const ENGLISH: Labels = Labels {
    availability: "Availability",
    available: "Available",
    on_break: "On a break",
    away: "Away",
    open: "Open Trubka",
    dial: "Dial the copied number",
    do_not_disturb: "Do not disturb (no popups)",
    quit: "Quit",
};

const RUSSIAN: Labels = Labels {
    availability: "Доступность",
    available: "На месте",
    on_break: "Перерыв",
    away: "Нет на месте",
    open: "Открыть Трубку",
    dial: "Позвонить по скопированному номеру",
    do_not_disturb: "Не беспокоить (без всплывающих окон)",
    quit: "Выйти",
};

fn labels(russian: bool) -> &'static Labels {
    if russian { &RUSSIAN } else { &ENGLISH }
}

/// The menu's items, kept so that they follow the settings (language, do-not-disturb).
struct Items<R: Runtime> {
    open: MenuItem<R>,
    dial: MenuItem<R>,
    dnd: CheckMenuItem<R>,
    quit: MenuItem<R>,
    /// The availability submenu (enabled in team mode) and its choices.
    availability: Submenu<R>,
    choices: [CheckMenuItem<R>; 3],
}

/// The tray's state between events.
pub struct TrayState<R: Runtime> {
    health: Mutex<Health>,
    items: Mutex<Option<Items<R>>>,
}

impl<R: Runtime> std::fmt::Debug for TrayState<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrayState")
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Default for TrayState<R> {
    fn default() -> Self {
        TrayState {
            health: Mutex::default(),
            items: Mutex::new(None),
        }
    }
}

/// Makes the tray icon with its menu. A desktop without a tray only loses the icon.
pub fn build<R: Runtime>(
    app: &AppHandle<R>,
    language: Language,
    do_not_disturb: bool,
) -> tauri::Result<TrayIcon<R>> {
    app.manage(TrayState::<R>::default());
    let ru = super::is_russian(language);
    let menu = menu(app, ru, do_not_disturb)?;
    let mut builder = TrayIconBuilder::with_id(TRAY)
        .tooltip(Health::default().describe(ru))
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                super::show_main(tray.app_handle());
            }
        });
    if let Some(icon) = icon(app, false) {
        builder = builder.icon(icon);
    }
    builder.build(app)
}

/// The tray's menu, its items kept in the tray's state to follow the settings.
fn menu<R: Runtime>(app: &AppHandle<R>, ru: bool, do_not_disturb: bool) -> tauri::Result<Menu<R>> {
    let text = labels(ru);
    let open = MenuItem::with_id(app, OPEN, text.open, true, None::<&str>)?;
    let dial = MenuItem::with_id(app, DIAL_CLIPBOARD, text.dial, true, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(
        app,
        DO_NOT_DISTURB,
        text.do_not_disturb,
        true,
        do_not_disturb,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, QUIT, text.quit, true, None::<&str>)?;
    let choice =
        |id: &str, label: &str| CheckMenuItem::with_id(app, id, label, true, false, None::<&str>);
    let choices = [
        choice(SET_AVAILABLE, text.available)?,
        choice(SET_BREAK, text.on_break)?,
        choice(SET_AWAY, text.away)?,
    ];
    let availability = Submenu::with_id_and_items(
        app,
        AVAILABILITY,
        text.availability,
        false,
        &[&choices[0], &choices[1], &choices[2]],
    )?;
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &dial,
            &PredefinedMenuItem::separator(app)?,
            &availability,
            &dnd,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    *app.state::<TrayState<R>>()
        .items
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(Items {
        open,
        dial,
        dnd,
        quit,
        availability,
        choices,
    });
    Ok(menu)
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        OPEN => super::show_main(app),
        DIAL_CLIPBOARD => super::dial_copied(app, "clipboard"),
        DO_NOT_DISTURB => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let Ok(companion) = app.state::<AppCore>().companion().await else {
                    return;
                };
                let turning_on = companion.settings().popups.enabled;
                if let Err(e) = companion.set_popups(!turning_on) {
                    tracing::warn!(error = %e, "do-not-disturb was not saved");
                }
                super::settings_changed(&app, &companion.settings());
            });
        }
        QUIT => app.exit(0),
        SET_AVAILABLE | SET_BREAK | SET_AWAY => {
            let chosen = match id {
                SET_AVAILABLE => Availability::Available,
                SET_BREAK => Availability::Break,
                _ => Availability::Away,
            };
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let Ok(companion) = app.state::<AppCore>().companion().await else {
                    return;
                };
                match companion.set_availability(chosen).await {
                    Ok(now) => follow_availability(&app, Some(now)),
                    Err(e) => {
                        tracing::warn!(error = %e, "the availability was not set");
                        follow_availability(&app, companion.my_availability());
                    }
                }
            });
        }
        _ => {}
    }
}

/// Shows the seat's availability in the menu: its choice checked (none while Offline), the
/// submenu enabled once it is known (team mode), disabled while it is `None`. The menu is changed
/// on the main thread, without this caller waiting for it: the core's event loop must never
/// stand still behind the desktop's main loop.
pub fn follow_availability<R: Runtime>(app: &AppHandle<R>, now: Option<Availability>) {
    let handle = app.clone();
    if let Err(e) = app.run_on_main_thread(move || show_availability(&handle, now)) {
        tracing::debug!(error = %e, "the tray's availability was not updated");
    }
}

fn show_availability<R: Runtime>(app: &AppHandle<R>, now: Option<Availability>) {
    let Some(state) = app.try_state::<TrayState<R>>() else {
        return;
    };
    let items = state.items.lock().unwrap_or_else(|p| p.into_inner());
    let Some(items) = items.as_ref() else {
        return;
    };
    let order = [
        Availability::Available,
        Availability::Break,
        Availability::Away,
    ];
    let mut results = vec![items.availability.set_enabled(now.is_some())];
    for (item, availability) in items.choices.iter().zip(order) {
        results.push(item.set_checked(now == Some(availability)));
    }
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        tracing::debug!(error = %e, "the tray's availability was not updated");
    }
}

/// Follows the settings: the menu's and the tooltip's language, and do-not-disturb. The tray is
/// made before the core has read its profile (the demo's is not the default one), and the
/// language may change in Settings.
pub fn follow_settings<R: Runtime>(app: &AppHandle<R>, settings: &Settings) {
    let Some(state) = app.try_state::<TrayState<R>>() else {
        return;
    };
    let ru = super::is_russian(settings.language);
    {
        let items = state.items.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(items) = items.as_ref() {
            let text = labels(ru);
            let texts = [
                items.open.set_text(text.open),
                items.dial.set_text(text.dial),
                items.dnd.set_text(text.do_not_disturb),
                items.quit.set_text(text.quit),
                items.dnd.set_checked(!settings.popups.enabled),
                items.availability.set_text(text.availability),
                items.choices[0].set_text(text.available),
                items.choices[1].set_text(text.on_break),
                items.choices[2].set_text(text.away),
            ];
            if let Some(Err(e)) = texts.into_iter().find(Result::is_err) {
                tracing::debug!(error = %e, "the tray's menu was not updated");
            }
        }
    }
    let health = state
        .health
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(tray) = app.tray_by_id(TRAY)
        && let Err(e) = tray.set_tooltip(Some(health.describe(ru)))
    {
        tracing::debug!(error = %e, "the tray's tooltip was not updated");
    }
}

/// Follows the link's and the sign-in's health.
pub fn on_event<R: Runtime>(app: &AppHandle<R>, companion: &Companion, event: &DomainEvent) {
    let Some(state) = app.try_state::<TrayState<R>>() else {
        return;
    };
    match event {
        DomainEvent::Colleague { colleague }
            if companion
                .team()
                .is_some_and(|team| team.seat.id == colleague.seat) =>
        {
            return follow_availability(app, Some(colleague.availability));
        }
        DomainEvent::ColleaguesReloaded => {
            return follow_availability(app, companion.my_availability());
        }
        _ => {}
    }
    let health = {
        let mut health = state.health.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            DomainEvent::Link { state, .. } => {
                health.link = state.clone();
                health.team = companion.team().is_some();
            }
            DomainEvent::Session { signed_in, .. } => health.signed_in = *signed_in,
            _ => return,
        }
        health.clone()
    };
    show_health(
        app,
        &health,
        super::is_russian(companion.settings().language),
    );
}

/// An action (dial, transfer, hang up) found the team server unreachable, which the link may
/// not have noticed yet: the tray says "dial from your phone" until the link reports again or
/// an action is answered again.
pub fn team_unreachable<R: Runtime>(app: &AppHandle<R>, companion: &Companion) {
    let Some(state) = app.try_state::<TrayState<R>>() else {
        return;
    };
    let health = {
        let mut health = state.health.lock().unwrap_or_else(|p| p.into_inner());
        health.action_failed();
        health.clone()
    };
    show_health(
        app,
        &health,
        super::is_russian(companion.settings().language),
    );
}

/// An action was answered: if an earlier one had found the team server unreachable, the tray
/// follows the link's own report again.
pub fn team_answered<R: Runtime>(app: &AppHandle<R>, companion: &Companion) {
    let Some(state) = app.try_state::<TrayState<R>>() else {
        return;
    };
    let health = {
        let mut health = state.health.lock().unwrap_or_else(|p| p.into_inner());
        if !health.action_answered(companion.link_status().map(|l| l.state)) {
            return;
        }
        health.clone()
    };
    show_health(
        app,
        &health,
        super::is_russian(companion.settings().language),
    );
}

fn show_health<R: Runtime>(app: &AppHandle<R>, health: &Health, ru: bool) {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return;
    };
    if let Err(e) = tray.set_tooltip(Some(health.describe(ru))) {
        tracing::debug!(error = %e, "the tray's tooltip was not updated");
    }
    if let Err(e) = tray.set_icon(icon(app, !health.good())) {
        tracing::debug!(error = %e, "the tray's icon was not updated");
    }
}

/// The app's icon, greyed out and faded when something is wrong.
fn icon<R: Runtime>(app: &AppHandle<R>, troubled: bool) -> Option<Image<'static>> {
    let base = app.default_window_icon()?;
    let mut rgba = base.rgba().to_vec();
    if troubled {
        for px in rgba.chunks_exact_mut(4) {
            let grey = ((u32::from(px[0]) * 30 + u32::from(px[1]) * 59 + u32::from(px[2]) * 11)
                / 100) as u8;
            px[0] = grey;
            px[1] = grey;
            px[2] = grey;
            px[3] /= 2;
        }
    }
    Some(Image::new_owned(rgba, base.width(), base.height()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tooltip_says_what_is_wrong() {
        let mut h = Health {
            link: "connected".into(),
            signed_in: true,
            team: false,
        };
        assert!(h.good());
        assert_eq!(h.describe(false), "Trubka — live events connected");
        h.signed_in = false;
        assert!(!h.good());
        assert!(h.describe(false).ends_with("sign-in required"));
        h.link = "offline".into();
        assert!(h.describe(true).contains("нет связи"));
        h.team = true;
        assert!(
            h.describe(false)
                .contains("the team server is unreachable — dial from your phone")
        );
        h.link = "revoked".into();
        assert!(h.describe(false).contains("revoked"));
    }

    #[test]
    fn an_action_that_found_the_team_server_gone_says_dial_from_your_phone() {
        // What `team_unreachable` leaves: the link may still have reported "connected".
        let h = Health {
            link: "unreachable".into(),
            signed_in: true,
            team: true,
        };
        assert!(!h.good(), "the icon shows trouble");
        assert_eq!(
            h.describe(false),
            "Trubka — the team server is unreachable — dial from your phone"
        );
        assert_eq!(
            h.describe(true),
            "Trubka — сервер команды недоступен — звоните с телефона"
        );
    }

    #[test]
    fn an_action_answered_again_gives_the_tray_back_to_the_links_report() {
        let mut h = Health {
            link: "connected".into(),
            signed_in: true,
            team: true,
        };
        h.action_failed();
        assert_eq!(h.link, "unreachable");
        assert!(h.action_answered(Some("connected".into())));
        assert_eq!(h.link, "connected");
        assert!(h.good());
        // The link's own report is not an action's to take back.
        h.link = "reconnecting".into();
        assert!(!h.action_answered(Some("connected".into())));
        assert_eq!(h.link, "reconnecting");
    }

    #[test]
    fn the_menu_follows_the_settings_language_and_do_not_disturb() {
        // The icon itself needs GTK and a tray host; the menu is what follows the settings.
        let app = tauri::test::mock_app();
        let handle = app.handle();
        handle.manage(TrayState::<tauri::test::MockRuntime>::default());
        menu(handle, false, false).unwrap();
        let texts = || {
            let state = handle.state::<TrayState<tauri::test::MockRuntime>>();
            let items = state.items.lock().unwrap();
            let items = items.as_ref().expect("the menu was made");
            (
                items.open.text().unwrap(),
                items.quit.text().unwrap(),
                items.dnd.is_checked().unwrap(),
            )
        };
        assert_eq!(texts(), ("Open Trubka".into(), "Quit".into(), false));
        let mut settings = Settings {
            language: Language::Ru,
            ..Settings::default()
        };
        settings.popups.enabled = false;
        follow_settings(handle, &settings);
        assert_eq!(texts(), ("Открыть Трубку".into(), "Выйти".into(), true));
    }

    #[test]
    fn the_availability_menu_shows_the_seats_choice_and_is_off_outside_a_team() {
        let app = tauri::test::mock_app();
        let handle = app.handle();
        handle.manage(TrayState::<tauri::test::MockRuntime>::default());
        menu(handle, false, false).unwrap();
        let shown = || {
            let state = handle.state::<TrayState<tauri::test::MockRuntime>>();
            let items = state.items.lock().unwrap();
            let items = items.as_ref().unwrap();
            (
                items.availability.is_enabled().unwrap(),
                items
                    .choices
                    .iter()
                    .map(|c| c.is_checked().unwrap())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(shown(), (false, vec![false, false, false]));
        show_availability(handle, Some(Availability::Break));
        assert_eq!(shown(), (true, vec![false, true, false]));
        show_availability(handle, Some(Availability::Offline));
        assert_eq!(shown(), (true, vec![false, false, false]));
        let settings = Settings {
            language: Language::Ru,
            ..Settings::default()
        };
        follow_settings(handle, &settings);
        let state = handle.state::<TrayState<tauri::test::MockRuntime>>();
        let items = state.items.lock().unwrap();
        assert_eq!(
            items.as_ref().unwrap().choices[1].text().unwrap(),
            "Перерыв"
        );
    }
}
