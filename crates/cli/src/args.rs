//! The command line: every flag and command `trubka` accepts, each documented (the doc comments
//! are what `trubka --help` prints). Only definitions live here; `main` dispatches each command
//! to its module under `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The whole command line: the options every command takes, then the command.
#[derive(Debug, Parser)]
#[command(
    name = "trubka",
    version,
    about = "Trubka, the МТТ Бизнес operator's companion, from a terminal"
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes: which profile, where MTT and the relay are, and the output form.
#[derive(Debug, Args)]
pub struct Global {
    /// The profile (one account's settings, history and secrets).
    #[arg(long, global = true, env = "TRUBKA_PROFILE", default_value = companion::settings::DEFAULT_PROFILE)]
    pub profile: String,
    /// Overrides MTT's OAuth server (e.g. a simulator).
    #[arg(long, global = true, env = "TRUBKA_OAUTH_URL")]
    pub oauth_url: Option<String>,
    /// Overrides MTT's Open API host (e.g. a simulator).
    #[arg(long, global = true, env = "TRUBKA_API_URL")]
    pub api_url: Option<String>,
    /// Overrides the relay's address.
    #[arg(long, global = true, env = "TRUBKA_RELAY_URL")]
    pub relay_url: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Where settings live instead of the platform's directory.
    #[arg(long, global = true, env = "TRUBKA_CONFIG_DIR", hide = true)]
    pub config_dir: Option<PathBuf>,
    /// Where the history lives instead of the platform's directory.
    #[arg(long, global = true, env = "TRUBKA_DATA_DIR", hide = true)]
    pub data_dir: Option<PathBuf>,
}

/// The commands, grouped as `trubka --help` lists them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up the MTT integration of this profile.
    Account {
        /// Set or show.
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
        /// Which part.
        #[command(subcommand)]
        action: RoutingAction,
    },
    /// The call history.
    History {
        /// Only missed calls.
        #[arg(long)]
        missed: bool,
        /// Calls whose number contains these digits (3 or more), or whose name, note or tags
        /// contain this text.
        #[arg(long)]
        search: Option<String>,
        /// Only calls with this wrap-up tag.
        #[arg(long)]
        tag: Option<String>,
        /// How many calls.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Set a call's wrap-up note (an empty text clears it).
    Note {
        /// The call's leg id, as `trubka history --json` or `trubka events` show it.
        leg: String,
        /// The note; several words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Set a call's wrap-up tags, replacing the ones it had (none clears them).
    Tag {
        /// The call's leg id.
        leg: String,
        /// The tags, each one argument (quote a tag with spaces).
        tags: Vec<String>,
    },
    /// Missed calls not yet called back.
    Callbacks,
    /// Ask to call a call's number back at a time (a follow-up), or clear that.
    FollowUp {
        /// The call's leg id.
        leg: String,
        /// When: `+30m`, `+2h`, `+1d` from now, a local `YYYY-MM-DD HH:MM`, or an RFC 3339 time.
        #[arg(required_unless_present = "clear", conflicts_with = "clear")]
        when: Option<String>,
        /// Clear the call's follow-up.
        #[arg(long)]
        clear: bool,
    },
    /// Follow-ups not yet done (the number not reached since), soonest first.
    FollowUps {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// The phonebook.
    Contacts {
        /// Import or list.
        #[command(subcommand)]
        action: ContactsAction,
    },
    /// Follow the live calls (Ctrl+C to stop).
    Events,
    /// Team mode: join a team's server with an invite, see the seat, leave.
    Team {
        /// Join, status or leave.
        #[command(subcommand)]
        action: TeamAction,
    },
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

/// `trubka account …`.
#[derive(Debug, Subcommand)]
pub enum AccountAction {
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

/// `trubka routing …`.
#[derive(Debug, Subcommand)]
pub enum RoutingAction {
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

/// `trubka contacts …`.
#[derive(Debug, Subcommand)]
pub enum ContactsAction {
    /// Import a CSV or vCard file.
    Import {
        /// The file: `.vcf` or `.vcard` (vCard 2.1, 3.0, 4.0), anything else CSV; in any encoding.
        file: PathBuf,
    },
    /// List or search contacts.
    List {
        /// Part of a name or number.
        search: Option<String>,
    },
}

/// `trubka team …`.
#[derive(Debug, Subcommand)]
pub enum TeamAction {
    /// Join a team with the admin's invite: a `trubka://join?server=…&code=…` link, or the code
    /// with `--server`. Shows the server's host and asks first.
    Join {
        /// The invite link, or its code.
        invite: String,
        /// The team server's address (https), for a bare code.
        #[arg(long)]
        server: Option<String>,
        /// Do not ask for confirmation (needed when not run in a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// The team, the seat, its role and workplace, and whether the server answers.
    Status,
    /// Leave the team: the seat's credential leaves the keyring.
    Leave {
        /// Also delete the calls and contacts that came in since joining from this computer.
        #[arg(long)]
        delete_history: bool,
    },
}
