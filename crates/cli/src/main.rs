//! `trubka`: the Trubka core from a terminal. Every command is a thin wrapper over the
//! `companion` crate, so what works here works in the window. Output is for people by default
//! and JSON with `--json`; errors are one line on stderr with a documented exit code:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | anything else |
//! | 2 | the command line is wrong |
//! | 3 | the account is not set up far enough (see `trubka account set`) |
//! | 4 | sign-in is required, or it failed |
//! | 5 | the input is invalid (a number that cannot be dialled, a bad profile name, …) |
//! | 6 | the PBX refused the request |
//! | 7 | MTT or the relay could not be reached in time |
//! | 8 | local storage failed (settings, keyring, call history) |
//! | 9 | a confirmation was needed and not given (declined, or no terminal to ask in: add `--yes`) |

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use companion::account::AccountSetup;
use companion::settings::platform_dirs;
use companion::{
    Companion, CompanionError, DomainEvent, ErrorCode, OsKeyring, Profile, ProfileSecrets, RelayKey,
};
use demo::{Demo, DemoOptions};
use mtt_api::ClientSecret;

#[derive(Debug, Parser)]
#[command(
    name = "trubka",
    version,
    about = "Trubka, the МТТ Бизнес operator's companion, from a terminal"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// The profile (one account's settings, history and secrets).
    #[arg(long, global = true, env = "TRUBKA_PROFILE", default_value = companion::settings::DEFAULT_PROFILE)]
    profile: String,
    /// Overrides MTT's OAuth server (e.g. a simulator).
    #[arg(long, global = true, env = "TRUBKA_OAUTH_URL")]
    oauth_url: Option<String>,
    /// Overrides MTT's Open API host (e.g. a simulator).
    #[arg(long, global = true, env = "TRUBKA_API_URL")]
    api_url: Option<String>,
    /// Overrides the relay's address.
    #[arg(long, global = true, env = "TRUBKA_RELAY_URL")]
    relay_url: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Where settings live instead of the platform's directory.
    #[arg(long, global = true, env = "TRUBKA_CONFIG_DIR", hide = true)]
    config_dir: Option<PathBuf>,
    /// Where the history lives instead of the platform's directory.
    #[arg(long, global = true, env = "TRUBKA_DATA_DIR", hide = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up the MTT integration of this profile.
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// Sign in with the MTT cabinet's login in the browser.
    Login {
        /// Print the address to open instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Sign out: the tokens leave the keyring.
    Logout,
    /// Sign-in state and token expiries.
    Status,
    /// The account's external numbers.
    Numbers,
    /// The account's workplaces.
    Workplaces,
    /// The account's terminals.
    Terminals,
    /// Click-to-call: ring my phone, then dial the number.
    Call {
        /// The number, in any usual form (`8 (921) 946-27-61`).
        number: String,
        /// Ring this workplace instead of mine.
        #[arg(long)]
        from: Option<String>,
    },
    /// End a call's leg (a ringing call then goes on along the cabinet's routing).
    Hangup {
        /// The call's leg id, as `trubka events` or `trubka history --json` show it.
        call: String,
    },
    /// Transfer a call, answered or ringing, to a workplace SIP ID or a number.
    Transfer {
        /// The call's leg id.
        call: String,
        /// A workplace SIP ID or a number.
        target: String,
    },
    /// Turn parking on or off for external numbers (asks first: a parked number holds every
    /// incoming call up to 5 seconds for the routing decision).
    Park {
        /// The external numbers.
        #[arg(required = true)]
        numbers: Vec<String>,
        /// Turn parking on.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        /// Turn parking off.
        #[arg(long)]
        off: bool,
        /// Do not ask for confirmation (needed when not run in a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// How parked calls are decided: the rules, the router switch and the journal.
    Routing {
        #[command(subcommand)]
        action: RoutingAction,
    },
    /// The call history.
    History {
        /// Only missed calls.
        #[arg(long)]
        missed: bool,
        /// Calls whose number contains these digits (3 or more) or whose name contains this.
        #[arg(long)]
        search: Option<String>,
        /// How many calls.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Missed calls not yet called back.
    Callbacks,
    /// The phonebook.
    Contacts {
        #[command(subcommand)]
        action: ContactsAction,
    },
    /// Follow the live calls (Ctrl+C to stop).
    Events,
    /// Run the demo: a simulated PBX with live calls, printed as they happen (Ctrl+C to stop).
    Demo {
        /// New calls per minute.
        #[arg(long, default_value_t = 6.0)]
        calls_per_minute: f64,
        /// Stop after this many seconds (for scripts; default: run until Ctrl+C).
        #[arg(long)]
        seconds: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
enum AccountAction {
    /// Store the integration's details (the client secret comes from TRUBKA_CLIENT_SECRET or a
    /// hidden prompt, never a flag; the relay key likewise from TRUBKA_RELAY_KEY).
    Set {
        /// The integration's client id from the cabinet.
        #[arg(long)]
        client_id: String,
        /// The Redirect URI registered in the cabinet.
        #[arg(long)]
        redirect_uri: String,
        /// The relay's address (events and sign-in hand-off).
        #[arg(long)]
        relay_url: Option<String>,
        /// Also store a relay key (from TRUBKA_RELAY_KEY or a prompt).
        #[arg(long)]
        with_relay_key: bool,
    },
    /// Show the integration's details (never the secrets).
    Show,
}

#[derive(Debug, Subcommand)]
enum RoutingAction {
    /// Print the routing rules, business hours and deadline (TOML; JSON with --json).
    Rules,
    /// Replace them with a TOML file's (a `[routing]` table or its keys), checked first.
    SetRules {
        /// The file.
        file: PathBuf,
    },
    /// The last 100 decisions and the share that met the deadline.
    Journal,
    /// Mark this app as the account's router (the one app that decides parked calls) or not.
    Router {
        /// Decide parked calls here.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        /// Only watch.
        #[arg(long)]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ContactsAction {
    /// Import a CSV or vCard file.
    Import {
        /// The file (`.csv`, `.vcf`).
        file: PathBuf,
    },
    /// List or search contacts.
    List {
        /// Part of a name or number.
        search: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRUBKA_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trubka: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    if let Command::Park {
        numbers, on, yes, ..
    } = &cli.command
        && !*yes
        && let Err(why) = confirm_parking(numbers, *on)
    {
        eprintln!("trubka: {why}");
        return ExitCode::from(9);
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trubka: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &CompanionError) -> u8 {
    match e.code() {
        ErrorCode::NotConfigured => 3,
        ErrorCode::SignInRequired | ErrorCode::SignInFailed | ErrorCode::StateMismatch => 4,
        ErrorCode::InvalidInput
        | ErrorCode::Invalid
        | ErrorCode::InvalidNumber
        | ErrorCode::SearchTooShort
        | ErrorCode::NotFound => 5,
        ErrorCode::ApiError | ErrorCode::BadResponse => 6,
        ErrorCode::Unreachable | ErrorCode::Timeout => 7,
        ErrorCode::Settings
        | ErrorCode::Keyring
        | ErrorCode::CallLog
        | ErrorCode::TokenStore
        | ErrorCode::SaveFailed => 8,
        ErrorCode::Starting
        | ErrorCode::Demo
        | ErrorCode::Routing
        | ErrorCode::Parking
        | ErrorCode::Unavailable
        | ErrorCode::Internal => 1,
    }
}

fn profile(global: &Global) -> Result<Profile, CompanionError> {
    let (config, data) = bases(global)?;
    Profile::under(&global.profile, &config, &data)
}

fn bases(global: &Global) -> Result<(PathBuf, PathBuf), CompanionError> {
    let (config, data) = match (&global.config_dir, &global.data_dir) {
        (Some(c), Some(d)) => (c.clone(), d.clone()),
        (c, d) => {
            let (pc, pd) = platform_dirs()?;
            (c.clone().unwrap_or(pc), d.clone().unwrap_or(pd))
        }
    };
    Ok((config, data))
}

/// Opens the profile's core, with the global address overrides applied to its settings.
fn open(global: &Global) -> Result<Companion, CompanionError> {
    let profile = profile(global)?;
    let mut settings = profile.load_settings()?;
    let before = settings.clone();
    if let Some(u) = &global.oauth_url {
        settings.account.oauth_url = Some(u.clone());
    }
    if let Some(u) = &global.api_url {
        settings.account.api_url = Some(u.clone());
    }
    if let Some(u) = &global.relay_url {
        settings.account.relay_url = Some(u.clone());
    }
    if settings != before {
        profile.save_settings(&settings)?;
    }
    Companion::open(profile, Arc::new(OsKeyring))
}

fn say(json: bool, value: &serde_json::Value, text: impl FnOnce() -> String) {
    let mut out = std::io::stdout().lock();
    let line = if json { value.to_string() } else { text() };
    // A closed pipe (`trubka history | head`) is not an error worth reporting.
    let _ = writeln!(out, "{line}");
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

async fn run(cli: Cli) -> Result<(), CompanionError> {
    let g = &cli.global;
    match cli.command {
        Command::Account { action } => account(g, action),
        Command::Login { no_browser } => {
            let c = open(g)?;
            let status = c
                .sign_in(|url| {
                    if no_browser || !open_browser(url.as_str()) {
                        say(false, &serde_json::Value::Null, || url.to_string());
                        eprintln!("Open the address above in a browser and sign in with your MTT cabinet login.");
                    } else {
                        eprintln!("Sign in in the browser window that opened.");
                    }
                })
                .await?;
            say(
                g.json,
                &serde_json::json!({"signedIn": status.signed_in}),
                || "Signed in.".into(),
            );
            Ok(())
        }
        Command::Logout => {
            open(g)?.sign_out().await?;
            say(g.json, &serde_json::json!({"signedIn": false}), || {
                "Signed out.".into()
            });
            Ok(())
        }
        Command::Status => {
            let c = open(g)?;
            let status = c.session_status().await;
            let settings = c.settings();
            let value = serde_json::json!({
                "profile": c.profile().name(),
                "configured": status.is_some(),
                "signedIn": status.as_ref().is_some_and(|s| s.signed_in),
                "accessExpiresAt": status.as_ref().and_then(|s| s.access_expires_at),
                "refreshExpiresAt": status.as_ref().and_then(|s| s.refresh_expires_at),
                "workplace": settings.workplace,
                "relay": settings.account.relay_url,
                "parked": settings.parked,
                "parkingAppliedAt": settings.routing.parking_applied_at,
                "router": settings.router,
            });
            let parking = if settings.parked.is_empty() {
                String::new()
            } else {
                format!(
                    " Parking on for {}, last applied {}{}.",
                    settings
                        .parked
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
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
                    None => format!(
                        "Profile {}: no MTT account set up (trubka account set …).",
                        c.profile().name()
                    ),
                    Some(s) if !s.signed_in => format!(
                        "Profile {}: not signed in (trubka login).",
                        c.profile().name()
                    ),
                    Some(s) => format!(
                        "Profile {}: signed in; access until {}, sign-in valid until {}.",
                        c.profile().name(),
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
        Command::Numbers | Command::Workplaces | Command::Terminals => {
            let c = open(g)?;
            let d = c.refresh_directory().await?;
            let (value, lines): (serde_json::Value, Vec<String>) = match cli.command {
                Command::Numbers => (
                    to_json(&d.numbers),
                    d.numbers
                        .iter()
                        .map(|n| format!("{}\t{}", n.number, n.kind.as_deref().unwrap_or("")))
                        .collect(),
                ),
                Command::Workplaces => (
                    to_json(&d.workplaces),
                    d.workplaces
                        .iter()
                        .map(|w| format!("{}\t{}", w.workplace, w.name))
                        .collect(),
                ),
                _ => (
                    to_json(&d.terminals),
                    d.terminals
                        .iter()
                        .map(|t| format!("{}\t{}", t.terminal, t.workplace))
                        .collect(),
                ),
            };
            say(g.json, &value, || lines.join("\n"));
            Ok(())
        }
        Command::Call { number, from } => {
            let c = open(g)?;
            let (target, placed) = c.dial(&number, from.as_deref()).await?;
            say(
                g.json,
                &serde_json::json!({"callee": target.callee.as_str(), "display": target.display, "callId": placed.id}),
                || {
                    format!(
                        "Your phone is ringing — pick up; then {} will be called.",
                        target.display
                    )
                },
            );
            Ok(())
        }
        Command::Hangup { call } => {
            open(g)?.hang_up(&call).await?;
            say(
                g.json,
                &serde_json::json!({"call": call, "hungUp": true}),
                || format!("Hung up {call}."),
            );
            Ok(())
        }
        Command::Transfer { call, target } => {
            open(g)?.transfer(&call, &target).await?;
            say(
                g.json,
                &serde_json::json!({"call": call, "transferredTo": target}),
                || format!("Transferred {call} to {target}."),
            );
            Ok(())
        }
        Command::Routing { action } => routing(g, action).await,
        Command::Park { numbers, on, .. } => {
            let c = open(g)?;
            c.set_parking(&numbers, on).await?;
            say(
                g.json,
                &serde_json::json!({"numbers": numbers, "parking": on}),
                || {
                    if on {
                        format!(
                            "Parking on for {}: incoming calls wait up to 5 seconds for a routing decision, then follow the cabinet's routing.",
                            numbers.join(", ")
                        )
                    } else {
                        format!("Parking off for {}.", numbers.join(", "))
                    }
                },
            );
            Ok(())
        }
        Command::History {
            missed,
            search,
            limit,
        } => {
            let c = open(g)?;
            let filter = call_log::HistoryFilter {
                missed_only: missed,
                search,
                ..call_log::HistoryFilter::default()
            };
            let page = c.log().history(filter, None, limit).await?;
            say(g.json, &to_json(&page.calls), || {
                page.calls
                    .iter()
                    .map(|r| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            r.started_at.format("%Y-%m-%d %H:%M"),
                            r.direction
                                .as_ref()
                                .map(|d| format!("{d:?}"))
                                .unwrap_or_default()
                                .to_lowercase(),
                            r.peer_number.as_deref().unwrap_or("?"),
                            if r.missed { "missed" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        Command::Callbacks => {
            let c = open(g)?;
            let since = chrono::Utc::now() - chrono::Duration::days(7);
            let entries = c.log().callbacks(since, 100).await?;
            say(g.json, &to_json(&entries), || {
                format!("{} to call back", entries.len())
            });
            Ok(())
        }
        Command::Contacts { action } => {
            let c = open(g)?;
            match action {
                ContactsAction::Import { file } => {
                    let data = std::fs::read(&file).map_err(|e| {
                        CompanionError::InvalidInput(format!("cannot read {}: {e}", file.display()))
                    })?;
                    let is_vcard = file
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("vcf"));
                    let report = if is_vcard {
                        c.log()
                            .import_contacts_vcard(String::from_utf8_lossy(&data).into_owned())
                            .await?
                    } else {
                        c.log().import_contacts_csv(data).await?
                    };
                    say(g.json, &to_json(&report), || format!("{report:?}"));
                }
                ContactsAction::List { search } => {
                    let contacts = c.log().contacts(search.as_deref(), 200).await?;
                    say(g.json, &to_json(&contacts), || {
                        contacts
                            .iter()
                            .map(|c| c.name.clone())
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                }
            }
            Ok(())
        }
        Command::Events => {
            let c = open(g)?;
            let events = c.subscribe();
            c.start_live_events().await?;
            follow(events, g.json, None).await;
            c.shutdown().await;
            Ok(())
        }
        Command::Demo {
            calls_per_minute,
            seconds,
        } => {
            let (config, data) = bases(g)?;
            eprintln!("Trubka demo: a SIMULATED PBX (not MTT) with live calls. Ctrl+C to stop.");
            let demo = Demo::start(
                &config,
                &data,
                DemoOptions {
                    calls_per_second: calls_per_minute / 60.0,
                    ..DemoOptions::default()
                },
            )
            .await?;
            let events = demo.companion.subscribe();
            follow(events, g.json, seconds.map(std::time::Duration::from_secs)).await;
            demo.shutdown().await;
            Ok(())
        }
    }
}

fn account(g: &Global, action: AccountAction) -> Result<(), CompanionError> {
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
            say(
                g.json,
                &serde_json::json!({"profile": profile.name(), "saved": true}),
                || {
                    format!(
                        "Saved the account of profile {}. Next: trubka login",
                        profile.name()
                    )
                },
            );
        }
        AccountAction::Show => {
            say(g.json, &to_json(&settings.account), || {
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

/// Asks before changing parking, saying what it does to callers; refuses without a terminal.
fn confirm_parking(numbers: &[String], on: bool) -> Result<(), String> {
    let what = if on {
        format!(
            "Turn parking ON for {}? Every incoming call to them will wait up to 5 seconds for this account's router (the Trubka app marked as router) to send it on; with no decision in time the PBX follows the cabinet's routing.",
            numbers.join(", ")
        )
    } else {
        format!(
            "Turn parking OFF for {}? Incoming calls to them will follow the cabinet's routing at once; routing rules stop applying to them.",
            numbers.join(", ")
        )
    };
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "parking not changed: it needs a confirmation and there is no terminal to ask in; add --yes to confirm. {what}"
        ));
    }
    eprint!("{what} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| format!("parking not changed: cannot read the answer: {e}"))?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" | "д" | "да" => Ok(()),
        _ => Err("parking not changed: not confirmed".into()),
    }
}

/// The routing commands.
async fn routing(g: &Global, action: RoutingAction) -> Result<(), CompanionError> {
    let c = open(g)?;
    match action {
        RoutingAction::Rules => {
            let rules = c.routing_settings();
            let text = rules.to_toml().map_err(CompanionError::InvalidInput)?;
            say(g.json, &to_json(&rules), || text.trim_end().to_owned());
        }
        RoutingAction::SetRules { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                CompanionError::InvalidInput(format!("cannot read {}: {e}", file.display()))
            })?;
            let rules = c.set_routing_settings_toml(&text)?;
            say(g.json, &to_json(&rules), || {
                let names: Vec<&str> = rules
                    .rules
                    .iter()
                    .filter(|r| r.enabled())
                    .map(companion::Rule::name)
                    .collect();
                format!(
                    "Routing rules saved: {} (deadline {} ms).",
                    names.join(", "),
                    rules.deadline_ms
                )
            });
        }
        RoutingAction::Journal => {
            let journal = c
                .routing_journal(companion::routing::api::JOURNAL_PAGE)
                .await?;
            say(g.json, &to_json(&journal), || {
                let mut lines: Vec<String> = journal
                    .decisions
                    .iter()
                    .map(|d| {
                        format!(
                            "{}\t{}\t{}\t{}\t{}\t{} ms{}\t{}",
                            d.decided_at
                                .with_timezone(&chrono::Local)
                                .format("%Y-%m-%d %H:%M:%S"),
                            d.caller_number.as_deref().unwrap_or("hidden"),
                            d.rule.as_deref().unwrap_or("-"),
                            d.target.as_deref().unwrap_or("-"),
                            serde_json::to_value(d.outcome)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                            d.took_ms,
                            if d.met_deadline { "" } else { " (late)" },
                            d.detail.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                lines.push(match journal.share {
                    Some(share) => format!(
                        "{} of {} decisions met the deadline ({:.1}%).",
                        journal.met,
                        journal.decisions.len(),
                        share * 100.0
                    ),
                    None => "No routing decisions yet.".into(),
                });
                lines.join("\n")
            });
        }
        RoutingAction::Router { on, .. } => {
            c.set_is_router(on)?;
            say(g.json, &serde_json::json!({"router": on}), || {
                if on {
                    "This app now decides parked calls for the account (make sure no other app is marked as router).".into()
                } else {
                    "This app now only watches; another app must be the router for parked calls to be decided.".into()
                }
            });
        }
    }
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

fn open_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Prints domain events until Ctrl+C (or `limit` passes).
async fn follow(
    mut events: tokio::sync::broadcast::Receiver<DomainEvent>,
    json: bool,
    limit: Option<std::time::Duration>,
) {
    let stop = async {
        match limit {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop);
    // A call rung at several workplaces updates once per workplace; people want one line per
    // change they can see (ringing, mine, connected, ended), so repeats are left out of the text.
    let mut shown: std::collections::HashMap<String, (companion::CallPhase, bool)> =
        Default::default();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            e = events.recv() => match e {
                Ok(event) => {
                    let repeat = match &event {
                        DomainEvent::CallStarted { call, .. } | DomainEvent::CallUpdated { call } => {
                            shown.insert(call.leg.clone(), (call.phase, call.mine)) == Some((call.phase, call.mine))
                        }
                        DomainEvent::CallEnded { call, .. } => {
                            shown.remove(&call.leg);
                            false
                        }
                        _ => false,
                    };
                    if json || !repeat {
                        say(json, &to_json(&event), || describe(&event));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("({n} events skipped: output too slow)"),
                Err(_) => return,
            },
        }
    }
}

fn describe(event: &DomainEvent) -> String {
    let now = chrono::Local::now().format("%H:%M:%S");
    let who = |call: &companion::LiveCall| {
        let number = call
            .remote_number
            .as_deref()
            .map(|n| companion::display_number(n, companion::dialer::DEFAULT_REGION))
            .unwrap_or_else(|| "unknown number".into());
        match &call.remote_name {
            Some(name) => format!("{name} ({number})"),
            None => number,
        }
    };
    match event {
        DomainEvent::CallStarted { call, summary } => {
            let earlier = summary.as_ref().map(|s| s.earlier_calls).unwrap_or(0);
            format!(
                "{now}  {:<10} {}{}{}",
                match call.direction {
                    companion::CallDirection::Outgoing => "calling",
                    _ => "ringing",
                },
                who(call),
                if call.mine { "  [mine]" } else { "" },
                if earlier > 0 {
                    format!("  ({earlier} earlier calls)")
                } else {
                    String::new()
                }
            )
        }
        DomainEvent::CallUpdated { call } => format!(
            "{now}  {:<10} {}{}{}",
            match call.phase {
                companion::CallPhase::Connected => "connected",
                companion::CallPhase::PickUp => "pick up",
                companion::CallPhase::Calling => "calling",
                companion::CallPhase::Ringing => "ringing",
                companion::CallPhase::Ended => "ended",
            },
            who(call),
            call.answered_by
                .as_deref()
                .map(|w| format!(" at {w}"))
                .unwrap_or_default(),
            if call.mine { "  [mine]" } else { "" }
        ),
        DomainEvent::CallEnded { call, missed } => format!(
            "{now}  {:<10} {}{}",
            if *missed { "MISSED" } else { "ended" },
            who(call),
            call.duration_secs
                .map(|d| format!(" after {d} s"))
                .unwrap_or_default()
        ),
        DomainEvent::CallRecorded { url, .. } => format!("{now}  {:<10} {url}", "recording"),
        DomainEvent::DirectoryChanged { what } => {
            format!("{now}  {:<10} {what} changed", "directory")
        }
        DomainEvent::Link { state, reason, .. } => {
            format!(
                "{now}  {:<10} {state}{}",
                "relay",
                reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )
        }
        DomainEvent::Resynced {
            reason,
            resume_after,
        } => {
            format!(
                "{now}  {:<10} resumed after {resume_after} ({reason})",
                "relay"
            )
        }
        DomainEvent::Trouble { message, .. } => format!("{now}  {:<10} {message}", "PROBLEM"),
        DomainEvent::Session {
            signed_in: false, ..
        } => {
            format!(
                "{now}  {:<10} sign-in required (trubka login); live calls keep coming",
                "session"
            )
        }
        DomainEvent::Session {
            renew_soon: true,
            refresh_expires_at,
            ..
        } => format!(
            "{now}  {:<10} the sign-in lapses at {}; sign in again soon",
            "session",
            refresh_expires_at
                .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
                .unwrap_or_default()
        ),
        DomainEvent::Session { .. } => format!("{now}  {:<10} signed in", "session"),
        DomainEvent::Routed { outcome } => format!(
            "{now}  {:<10} {} in {} ms{}",
            "routed",
            match &outcome.choice {
                companion::RoutingChoice::Transfer { to, rule } => format!("to {to} ({rule})"),
                companion::RoutingChoice::Release { rule } => format!("released ({rule})"),
            },
            outcome.elapsed_ms,
            outcome
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
    }
}
