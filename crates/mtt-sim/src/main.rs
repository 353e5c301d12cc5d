//! `mtt-sim`: run the MTT simulator, script a running one, or watch a demonstration.
//!
//! `serve` prints one JSON line with the three base URLs on stdout (for scripts) and a notice
//! that this is a simulator on stderr. The control subcommands talk to a running simulator's
//! control API (`--control URL`, or `MTT_SIM_CONTROL`). `demo` starts a simulator with the
//! traffic generator, receives its webhooks itself and prints one line per notification.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use mtt_sim::wire::{CallInfo, CallState, Notification, Party};
use mtt_sim::{Sim, SimConfig, SimError, TrafficConfig};
use serde_json::{Value, json};

const NOTICE: &str = "mtt-sim: this is a SIMULATOR of MTT Business (OAuth, Open API, PBX), not MTT. No real calls are made.";

#[derive(Debug, Parser)]
#[command(
    name = "mtt-sim",
    version,
    about = "A simulator of MTT Business's OAuth server, Open API and PBX, sending real webhooks"
)]
struct Cli {
    /// Control API base URL of a running simulator (as printed by `serve`).
    #[arg(long, global = true, env = "MTT_SIM_CONTROL")]
    control: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the simulator until Ctrl+C.
    Serve(ServeArgs),
    /// Place an incoming call from a number to one of the account's external numbers.
    Incoming(IncomingArgs),
    /// Answer a ringing call as a party.
    Answer(PartyArgs),
    /// Hang up a call as a party.
    Hangup(PartyArgs),
    /// List calls in progress.
    Calls {
        /// Include recently ended calls.
        #[arg(long)]
        all: bool,
    },
    /// Show the webhook delivery log.
    Deliveries {
        /// Only entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// At most this many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Add or remove a workplace (emits workplacesChanged).
    #[command(subcommand)]
    Workplace(WorkplaceCommand),
    /// Add or remove an external number (emits numbersChanged).
    #[command(subcommand)]
    Number(NumberCommand),
    /// Show the delays and windows, or change those given.
    Delays(DelaysArgs),
    /// Show the simulated clock, or run it faster or slower, or jump it forward.
    Clock {
        /// Simulated seconds per real second from now on.
        #[arg(long)]
        scale: Option<f64>,
        /// Jump simulated time forward by this many milliseconds.
        #[arg(long)]
        advance_ms: Option<u64>,
    },
    /// Show the OAuth lifetimes and refresh-token mode (and refresh counts), or change those
    /// given; changes apply to what is issued from then on.
    Oauth {
        /// `rotate`, `keep` or `repeat` (see `serve --refresh-tokens`).
        #[arg(long, value_enum)]
        refresh_tokens: Option<RefreshTokens>,
        /// Access token lifetime in simulated milliseconds.
        #[arg(long)]
        access_lifetime_ms: Option<u64>,
        /// Refresh token lifetime in simulated milliseconds.
        #[arg(long)]
        refresh_lifetime_ms: Option<u64>,
    },
    /// A headless demonstration: generated calls, received as webhooks, one line each.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks free ports (three: OAuth, API, control); a fixed
    /// port P uses P, P+1 and P+2. Default: the configuration's, else 127.0.0.1:0.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// A TOML configuration file (see `SimConfig`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Send webhooks to `<URL>/events` instead of the redirect URI.
    #[arg(long)]
    webhook_url: Option<String>,
    /// Approve `/oauth/authorize` at once, without the login form.
    #[arg(long)]
    auto_approve: bool,
    /// Start the traffic generator at this many calls per second.
    #[arg(long, value_name = "RATE")]
    traffic: Option<f64>,
    /// Simulated seconds per real second (86400: a simulated day per real second).
    #[arg(long, value_name = "SCALE")]
    clock_scale: Option<f64>,
    /// What a refresh does with the refresh token: `rotate` (a new one; the old is refused),
    /// `keep` (the same stays valid; the answer leaves it out) or `repeat` (the same stays
    /// valid; the answer repeats it). Default: the configuration's, else rotate.
    #[arg(long, value_enum, value_name = "MODE")]
    refresh_tokens: Option<RefreshTokens>,
    /// Access token lifetime in simulated milliseconds (MTT: 7200000, two hours).
    #[arg(long, value_name = "MS")]
    access_lifetime_ms: Option<u64>,
    /// Refresh token lifetime from issue in simulated milliseconds (MTT: 259200000, three days).
    #[arg(long, value_name = "MS")]
    refresh_lifetime_ms: Option<u64>,
}

/// `serve --refresh-tokens`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RefreshTokens {
    Rotate,
    Keep,
    Repeat,
}

#[derive(Debug, Args)]
struct IncomingArgs {
    /// Caller number.
    #[arg(long)]
    from: String,
    /// The account's external number being called.
    #[arg(long)]
    to: String,
    /// Caller name as the network shows it.
    #[arg(long)]
    name: Option<String>,
    /// A ringing workplace answers after this many milliseconds.
    #[arg(long)]
    answer_after_ms: Option<u64>,
    /// Which workplace answers.
    #[arg(long)]
    answer_by: Option<String>,
    /// The conversation lasts this many milliseconds.
    #[arg(long)]
    talk_ms: Option<u64>,
    /// Nothing happens on its own: answer and hang up with the other subcommands.
    #[arg(long)]
    manual: bool,
}

#[derive(Debug, Args)]
struct PartyArgs {
    /// The call: its key, a leg id, or makeCall's id.
    #[arg(long)]
    call: String,
    /// Who acts: a workplace SIP ID, `caller` or `callee`.
    #[arg(long)]
    by: Option<String>,
}

#[derive(Debug, Subcommand)]
enum WorkplaceCommand {
    /// Add (or change) a workplace.
    Add {
        /// SIP ID.
        #[arg(long)]
        id: String,
        /// Name.
        #[arg(long, default_value = "")]
        name: String,
        /// Terminal SIP IDs (repeatable).
        #[arg(long = "terminal")]
        terminals: Vec<String>,
    },
    /// Remove a workplace.
    Remove {
        /// SIP ID.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum NumberCommand {
    /// Add an external number.
    Add {
        /// The number.
        number: String,
    },
    /// Remove an external number.
    Remove {
        /// The number.
        number: String,
    },
}

#[derive(Debug, Args)]
struct DelaysArgs {
    /// Parking window.
    #[arg(long)]
    parking_window_ms: Option<u64>,
    /// How long makeCall rings the operator.
    #[arg(long)]
    operator_no_answer_ms: Option<u64>,
    /// How long a routing group rings.
    #[arg(long)]
    ring_timeout_ms: Option<u64>,
    /// Operator picks up makeCall after this long.
    #[arg(long)]
    operator_answer_ms: Option<u64>,
    /// Callee picks up after this long.
    #[arg(long)]
    callee_answer_ms: Option<u64>,
    /// A workplace picks up an incoming call after this long.
    #[arg(long)]
    incoming_answer_ms: Option<u64>,
    /// Conversations last this long.
    #[arg(long)]
    talk_ms: Option<u64>,
    /// Delay between finished and recorded.
    #[arg(long)]
    record_delay_ms: Option<u64>,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// New calls per second.
    #[arg(long, default_value_t = 0.3)]
    rate: f64,
    /// Seed of the random source.
    #[arg(long)]
    seed: Option<u64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mtt-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), SimError> {
    let control = cli.control;
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => demo(args).await,
        Command::Incoming(a) => {
            let mut body = json!({"from": a.from, "to": a.to, "manual": a.manual});
            insert(&mut body, "caller_name", a.name);
            insert(&mut body, "answer_after_ms", a.answer_after_ms);
            insert(&mut body, "answer_by", a.answer_by);
            insert(&mut body, "talk_ms", a.talk_ms);
            print(control_call(control, reqwest::Method::POST, "/incoming", Some(body)).await?)
        }
        Command::Answer(a) => print(
            control_call(
                control,
                reqwest::Method::POST,
                "/answer",
                Some(json!({"call": a.call, "by": a.by})),
            )
            .await?,
        ),
        Command::Hangup(a) => print(
            control_call(
                control,
                reqwest::Method::POST,
                "/hangup",
                Some(json!({"call": a.call, "by": a.by})),
            )
            .await?,
        ),
        Command::Calls { all } => print(
            control_call(
                control,
                reqwest::Method::GET,
                &format!("/calls?all={all}"),
                None,
            )
            .await?,
        ),
        Command::Deliveries { since, limit } => print(
            control_call(
                control,
                reqwest::Method::GET,
                &format!("/deliveries?since={since}&limit={limit}"),
                None,
            )
            .await?,
        ),
        Command::Workplace(WorkplaceCommand::Add {
            id,
            name,
            terminals,
        }) => print(
            control_call(
                control,
                reqwest::Method::POST,
                "/workplaces",
                Some(json!({"workplace": id, "name": name, "terminals": terminals})),
            )
            .await?,
        ),
        Command::Workplace(WorkplaceCommand::Remove { id }) => print(
            control_call(
                control,
                reqwest::Method::DELETE,
                &format!("/workplaces/{id}"),
                None,
            )
            .await?,
        ),
        Command::Number(NumberCommand::Add { number }) => print(
            control_call(
                control,
                reqwest::Method::POST,
                "/numbers",
                Some(json!({"number": number})),
            )
            .await?,
        ),
        Command::Number(NumberCommand::Remove { number }) => print(
            control_call(
                control,
                reqwest::Method::DELETE,
                &format!("/numbers/{number}"),
                None,
            )
            .await?,
        ),
        Command::Clock { scale, advance_ms } => {
            let mut body = json!({});
            insert(&mut body, "scale", scale);
            insert(&mut body, "advance_ms", advance_ms);
            get_or_put(control, "/clock", body).await
        }
        Command::Oauth {
            refresh_tokens,
            access_lifetime_ms,
            refresh_lifetime_ms,
        } => {
            let mut body = json!({});
            if let Some(mode) = refresh_tokens {
                insert(
                    &mut body,
                    "rotate_refresh_tokens",
                    Some(matches!(mode, RefreshTokens::Rotate)),
                );
                insert(
                    &mut body,
                    "repeat_kept_refresh_token",
                    Some(matches!(mode, RefreshTokens::Repeat)),
                );
            }
            insert(&mut body, "access_lifetime_ms", access_lifetime_ms);
            insert(&mut body, "refresh_lifetime_ms", refresh_lifetime_ms);
            get_or_put(control, "/oauth", body).await
        }
        Command::Delays(d) => {
            let mut body = json!({});
            insert(&mut body, "parking_window_ms", d.parking_window_ms);
            insert(&mut body, "operator_no_answer_ms", d.operator_no_answer_ms);
            insert(&mut body, "ring_timeout_ms", d.ring_timeout_ms);
            insert(&mut body, "operator_answer_ms", d.operator_answer_ms);
            insert(&mut body, "callee_answer_ms", d.callee_answer_ms);
            insert(&mut body, "incoming_answer_ms", d.incoming_answer_ms);
            insert(&mut body, "talk_ms", d.talk_ms);
            insert(&mut body, "record_delay_ms", d.record_delay_ms);
            let changes = body.as_object().is_some_and(|o| !o.is_empty());
            let method = if changes {
                reqwest::Method::PUT
            } else {
                reqwest::Method::GET
            };
            print(control_call(control, method, "/timings", changes.then_some(body)).await?)
        }
    }
}

/// `GET path` when `body` changes nothing, else `PUT path` with it; prints the answer.
async fn get_or_put(control: Option<String>, path: &str, body: Value) -> Result<(), SimError> {
    let changes = body.as_object().is_some_and(|o| !o.is_empty());
    let method = if changes {
        reqwest::Method::PUT
    } else {
        reqwest::Method::GET
    };
    print(control_call(control, method, path, changes.then_some(body)).await?)
}

fn insert<T: serde::Serialize>(body: &mut Value, key: &str, value: Option<T>) {
    if let (Some(object), Some(value)) = (body.as_object_mut(), value) {
        object.insert(key.to_owned(), json!(value));
    }
}

fn print(value: Value) -> Result<(), SimError> {
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    );
    Ok(())
}

async fn control_call(
    control: Option<String>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, SimError> {
    let base = control.ok_or_else(|| {
        SimError::Config(
            "give the running simulator's control URL with --control or MTT_SIM_CONTROL".to_owned(),
        )
    })?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    // The control API is the running simulator's own, on this machine or a test's: no proxy.
    let client =
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| SimError::Unreachable {
                url: url.clone(),
                message: e.to_string(),
            })?;
    let mut request = client.request(method, &url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let unreachable = |e: reqwest::Error| SimError::Unreachable {
        url: url.clone(),
        message: e.to_string(),
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let text = response.text().await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(SimError::Control {
            status: status.as_u16(),
            body: text,
        });
    }
    serde_json::from_str(&text).map_err(|e| SimError::Control {
        status: status.as_u16(),
        body: format!("{text} (not JSON: {e})"),
    })
}

async fn serve(args: ServeArgs) -> Result<(), SimError> {
    let mut config = match &args.config {
        Some(path) => SimConfig::from_toml_file(path)?,
        None => SimConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.webhook_url.is_some() {
        config.webhook_url = args.webhook_url;
    }
    if args.auto_approve {
        config.auto_approve = true;
    }
    if let Some(scale) = args.clock_scale {
        config.clock_scale = scale;
    }
    if let Some(mode) = args.refresh_tokens {
        config.tokens.rotate_refresh_tokens = matches!(mode, RefreshTokens::Rotate);
        config.repeat_kept_refresh_token = matches!(mode, RefreshTokens::Repeat);
    }
    if let Some(ms) = args.access_lifetime_ms {
        config.tokens.access_lifetime_ms = ms;
    }
    if let Some(ms) = args.refresh_lifetime_ms {
        config.tokens.refresh_lifetime_ms = ms;
    }
    if let Some(rate) = args.traffic {
        config.traffic = Some(TrafficConfig {
            calls_per_second: rate,
            ..TrafficConfig::default()
        });
    }
    eprintln!("{NOTICE}");
    let sim = Sim::start(config).await?;
    eprintln!("mtt-sim: notifications go to {}", sim.webhook_target());
    println!(
        "{}",
        json!({"oauth": sim.oauth_url(), "api": sim.api_url(), "control": sim.control_url()})
    );
    wait_for_stop().await;
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn demo(args: DemoArgs) -> Result<(), SimError> {
    use axum::routing::post;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let receiver = axum::Router::new().route(
        "/events",
        post(move |body: bytes::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body.to_vec());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: listen,
            source,
        })?;
    let hook = listener.local_addr().map_err(|source| SimError::Bind {
        addr: listen,
        source,
    })?;
    let receiver_task = tokio::spawn(async move { axum::serve(listener, receiver).await });

    let mut config = SimConfig {
        auto_approve: true,
        webhook_url: Some(format!("http://{hook}")),
        traffic: Some(TrafficConfig {
            calls_per_second: args.rate,
            time_scale: 1.0,
        }),
        ..SimConfig::default()
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    config.timings.ring_timeout_ms = 20_000;
    let sim = Sim::start(config).await?;
    eprintln!("{NOTICE}");
    let colour = std::io::stdout().is_terminal();
    println!(
        "MTT simulator demo — generated calls at {} per second, delivered as webhooks to http://{hook}/events",
        args.rate
    );
    println!(
        "OAuth {}   API {}   control {}   (Ctrl+C to stop)",
        sim.oauth_url(),
        sim.api_url(),
        sim.control_url()
    );
    let mut count: u64 = 0;
    loop {
        tokio::select! {
            _ = wait_for_stop() => break,
            body = rx.recv() => match body {
                Some(body) => {
                    count += 1;
                    println!("{}", describe(&body, colour));
                }
                None => break,
            },
        }
    }
    sim.shutdown().await;
    receiver_task.abort();
    println!("{count} notifications received. Bye.");
    Ok(())
}

/// One readable line for a notification.
fn describe(body: &[u8], colour: bool) -> String {
    let time = chrono::Local::now().format("%H:%M:%S");
    let notification: Notification = match serde_json::from_slice(body) {
        Ok(n) => n,
        Err(e) => {
            return format!(
                "{time}  ??? {} ({e})",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(120)
                    .collect::<String>()
            );
        }
    };
    match notification {
        Notification::Pbx(p) => format!("{time}  settings   {:?}", p.event_type),
        Notification::Call(call) => describe_call(&time.to_string(), &call.call_info, colour),
    }
}

fn party(p: Option<&Party>) -> String {
    let Some(p) = p else { return "?".to_owned() };
    match p.display_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{} «{name}»", p.display_id),
        None => p.display_id.clone(),
    }
}

fn describe_call(time: &str, info: &CallInfo, colour: bool) -> String {
    let (paint, reset) = if colour {
        let code = match info.state {
            CallState::Trying => "\x1b[2m",
            CallState::Showing => "\x1b[33m",
            CallState::Connected => "\x1b[32m",
            CallState::Hiding => "\x1b[90m",
            CallState::Finished => "\x1b[31m",
            CallState::Recorded => "\x1b[34m",
        };
        (code, "\x1b[0m")
    } else {
        ("", "")
    };
    let leg: String = info.call.id.chars().take(14).collect();
    let state = format!("{paint}{:<9}{reset}", info.state.as_str());
    if info.state == CallState::Recorded {
        return format!(
            "{time}  {state}           recording of {} → {}   [{leg}…]",
            info.account_id.as_deref().unwrap_or("?"),
            info.url_record.as_deref().unwrap_or("?"),
        );
    }
    let direction = info.direction.map_or("", |d| d.as_str());
    // On outgoing calls the caller's account id is the operator's workplace, which says more
    // than the company number shown to the callee.
    let caller = match (info.direction, info.caller.as_ref()) {
        (Some(mtt_sim::wire::Direction::Outgoing), Some(c)) => match &c.account_id {
            Some(workplace) => format!("{workplace} ({})", c.display_id),
            None => party(Some(c)),
        },
        (_, c) => party(c),
    };
    let mut line = format!(
        "{time}  {state}  {direction:<8}  {caller} → {}",
        party(info.callee.as_ref())
    );
    if info.state == CallState::Finished {
        line.push_str(&format!(
            "   {} s, {}",
            info.duration.unwrap_or(0),
            info.reason.as_deref().unwrap_or("no reason")
        ));
    }
    line.push_str(&format!("   [{leg}…]"));
    line
}
