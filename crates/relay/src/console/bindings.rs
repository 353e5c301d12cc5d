//! The console's TypeScript types, checked: `console/src/bindings/` holds the file of every
//! console API type and of the team-api types they reach (one file per type, as
//! `ui/src/bindings`), so a Rust change the page was not regenerated for fails here instead
//! of on a screen. `UPDATE_BINDINGS=1 cargo test -p relay --lib bindings` rewrites them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ts_rs::{Config, TS, TypeVisitor};

/// The roots: every type an API answer or form has; whatever they reach comes along.
fn visit_console_types(v: &mut impl TypeVisitor) {
    v.visit::<super::ErrorBody>();
    v.visit::<super::session::ConsoleSession>();
    v.visit::<super::session::ConsoleSignIn>();
    v.visit::<super::session::ConsoleRole>();
    v.visit::<super::seats::ConsoleSeats>();
    v.visit::<super::seats::ConsoleSeatAdded>();
    v.visit::<super::seats::ConsoleSeatChanged>();
    v.visit::<super::seats::ConsoleNewInvite>();
    v.visit::<super::seats::ConsoleSeatDraft>();
    v.visit::<super::seats::ConsoleRevoke>();
    v.visit::<super::seats::ConsolePassword>();
    v.visit::<super::integration::ConsoleIntegration>();
    v.visit::<super::integration::ConsoleConnect>();
    v.visit::<super::integration::ConsoleAuthorize>();
    v.visit::<super::wallboard::Wallboard>();
    v.visit::<super::audit::ConsoleAudit>();
    v.visit::<super::health::ConsoleHealth>();
    v.visit::<super::settings::ConsoleParking>();
    v.visit::<super::settings::ConsoleParkingChange>();
    v.visit::<super::settings::ConsolePhonebook>();
    v.visit::<super::settings::ConsoleContactSaved>();
    v.visit::<super::settings::ConsoleImportResult>();
    v.visit::<team_api::TeamContactDraft>();
    v.visit::<team_api::wrapup::TeamTags>();
    v.visit::<team_api::Role>();
    // Routing: the settings and rules are call-routing's serde shapes, reached from these.
    v.visit::<team_api::TeamRouting>();
    v.visit::<team_api::RoutingJournal>();
}

struct Bindings<'a> {
    cfg: &'a Config,
    files: BTreeMap<String, String>,
}

impl TypeVisitor for Bindings<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if let Some(path) = T::output_path() {
            let file = path.to_string_lossy().into_owned();
            if self.files.contains_key(&file) {
                return;
            }
            let text = T::export_to_string(self.cfg)
                .unwrap_or_else(|e| panic!("{file} cannot be generated: {e}"));
            self.files.insert(file, text);
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

fn bindings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../console/src/bindings")
}

fn generated() -> BTreeMap<String, String> {
    let cfg = Config::new().with_large_int("number");
    let mut bindings = Bindings {
        cfg: &cfg,
        files: BTreeMap::new(),
    };
    visit_console_types(&mut bindings);
    bindings.files
}

#[test]
fn the_committed_console_bindings_are_current() {
    let dir = bindings_dir();
    let update = std::env::var_os("UPDATE_BINDINGS").is_some();
    let mut stale = Vec::new();
    let files = generated();
    for (name, text) in &files {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "console/src/bindings is stale for {stale:?}: run \
         `UPDATE_BINDINGS=1 cargo test -p relay --lib bindings` and commit the files"
    );
    // No file there that no type makes.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if update && !files.contains_key(&name) {
            std::fs::remove_file(dir.join(&name)).unwrap();
            continue;
        }
        assert!(
            files.contains_key(&name),
            "console/src/bindings/{name} is not generated from any console type: delete it"
        );
    }
}

#[test]
fn a_console_role_is_spelled_as_the_seat_role() {
    // `ConsoleSession.role` is the seat's `Role`, typed in TypeScript as `ConsoleRole`: the
    // two must write the roles that may sign in alike.
    use super::session::ConsoleRole;
    use team_api::Role;
    for (console, seat) in [
        (ConsoleRole::Admin, Role::Admin),
        (ConsoleRole::Supervisor, Role::Supervisor),
    ] {
        assert_eq!(
            serde_json::to_value(console).unwrap(),
            serde_json::to_value(seat).unwrap()
        );
    }
}
