//! Setting up the account, signing in and out, and the profile's status.

use std::io::IsTerminal;
use std::sync::Arc;

use companion::account::AccountSetup;
use companion::{CompanionError, OsKeyring, ProfileSecrets, RelayKey};
use mtt_api::ClientSecret;

use crate::args::{AccountAction, Global};
use crate::browser;
use crate::output::{self, say};
use crate::profile::{open, profile};

/// `trubka account set|show`.
pub fn account(g: &Global, action: AccountAction) -> Result<(), CompanionError> {
    let profile = profile(g)?;
    let settings = profile.load_settings()?;
    match action {
        AccountAction::Set {
            client_id,
            redirect_uri,
            relay_url,
            with_relay_key,
        } => {
            let secret = secret_from("TRUBKA_CLIENT_SECRET", "Client secret: ")?;
            let secrets = ProfileSecrets::new(Arc::new(OsKeyring), profile.name());
            // Without new ones, the relay address and key already stored stay in use.
            let relay_key = if with_relay_key {
                Some(RelayKey::new(secret_from(
                    "TRUBKA_RELAY_KEY",
                    "Relay key: ",
                )?))
            } else {
                secrets.relay_key()?
            };
            AccountSetup {
                client_id,
                client_secret: ClientSecret::new(secret),
                redirect_uri,
                relay_url: relay_url.or(settings.account.relay_url.clone()),
                relay_key,
            }
            .trimmed()
            .save(&profile, &secrets)?;
            let saved = output::AccountSaved {
                profile: profile.name().to_owned(),
                saved: true,
            };
            say(g.json, &saved, || {
                format!(
                    "Saved the account of profile {}. Next: trubka login",
                    profile.name()
                )
            });
        }
        AccountAction::Show => {
            say(g.json, &output::Account::from(&settings.account), || {
                format!(
                    "client id: {}\nRedirect URI: {}\nrelay: {}",
                    settings.account.client_id.as_deref().unwrap_or("-"),
                    settings.account.redirect_uri.as_deref().unwrap_or("-"),
                    settings.account.relay_url.as_deref().unwrap_or("-")
                )
            });
        }
    }
    Ok(())
}

/// `trubka login`: the browser sign-in, or its address printed with `--no-browser`.
pub async fn login(g: &Global, no_browser: bool) -> Result<(), CompanionError> {
    let c = open(g)?;
    let status = c
        .sign_in(|url| {
            let handed = browser::hand_over(url.as_str(), no_browser, browser::system_browser);
            if let Some(address) = handed.address(url.as_str()) {
                output::print_line(address);
            }
            eprintln!("{}", handed.note());
        })
        .await?;
    let signed_in = output::SignIn {
        signed_in: status.signed_in,
    };
    say(g.json, &signed_in, || "Signed in.".into());
    Ok(())
}

/// `trubka logout`.
pub async fn logout(g: &Global) -> Result<(), CompanionError> {
    open(g)?.sign_out().await?;
    say(g.json, &output::SignIn { signed_in: false }, || {
        "Signed out.".into()
    });
    Ok(())
}

/// `trubka status`: sign-in, expiries, parking and the router switch.
pub async fn status(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let status = c.session_status().await;
    let settings = c.settings();
    let name = c.profile().name();
    let value = output::Status::new(name, status.as_ref(), &settings);
    let parking = if settings.parked.is_empty() {
        String::new()
    } else {
        format!(
            " Parking on for {}, last applied {}{}.",
            value.parked.join(", "),
            settings
                .routing
                .parking_applied_at
                .map(|t| t
                    .with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string())
                .unwrap_or_else(|| "never".into()),
            if settings.router {
                "; this app is the router"
            } else {
                ""
            }
        )
    };
    say(g.json, &value, || {
        let line = match &status {
            None => format!("Profile {name}: no MTT account set up (trubka account set …)."),
            Some(s) if !s.signed_in => format!("Profile {name}: not signed in (trubka login)."),
            Some(s) => format!(
                "Profile {name}: signed in; access until {}, sign-in valid until {}.",
                s.access_expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                s.refresh_expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ),
        };
        format!("{line}{parking}")
    });
    Ok(())
}

/// A secret from an environment variable, or typed at a hidden prompt; never from a flag,
/// where it would end up in the shell's history and the process list.
fn secret_from(variable: &str, prompt: &str) -> Result<String, CompanionError> {
    let value = match std::env::var(variable) {
        Ok(v) => v,
        Err(_) if std::io::stdin().is_terminal() => rpassword::prompt_password(prompt)
            .map_err(|e| CompanionError::InvalidInput(format!("cannot read the secret: {e}")))?,
        Err(_) => {
            return Err(CompanionError::InvalidInput(format!(
                "set {variable} or run in a terminal to type it"
            )));
        }
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(CompanionError::InvalidInput(format!("{variable} is empty")));
    }
    Ok(value)
}
