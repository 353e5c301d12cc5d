//! `trubka-relay contacts import|list|export`: the team phonebook from the command line. An
//! import is all or nothing unless `--skip-bad-rows`, and is written to the audit log; a relay
//! running on the same database notices it within a second and tells the seats' apps.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::Subcommand;
use relay::RelayError;
use relay::contacts_file::{parse_file, write_csv};
use relay::store::audit::{NewAuditEntry, Outcome};

use super::settings;

/// The audit log's seat number for changes made on the relay's command line.
pub const COMMAND_LINE_SEAT: i64 = 0;

/// How many bad lines an error names before it says how many more there are.
const PROBLEMS_NAMED: usize = 20;

#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Import a CSV or vCard file (any encoding) into the team phonebook. A row whose name
    /// matches a contact sharing one of its numbers updates it; others are added. One bad row
    /// refuses the whole file (each bad line named) unless `--skip-bad-rows`.
    Import {
        /// The file: CSV with a header line (name, company, phone…, manager, notes; the same
        /// headers the app reads), or vCards (.vcf).
        file: PathBuf,
        /// Import the good rows and list the bad ones instead of refusing the file.
        #[arg(long)]
        skip_bad_rows: bool,
    },
    /// List the team phonebook.
    List {
        /// JSON for scripts (the seat API's contact objects).
        #[arg(long)]
        json: bool,
    },
    /// Write the team phonebook to a new CSV file (safe to open in a spreadsheet; `import`
    /// reads it back).
    Export {
        /// The file to write (never overwritten).
        file: PathBuf,
    },
}

fn file_error(file: &Path, reason: impl Into<String>) -> RelayError {
    RelayError::ContactsFile {
        file: file.to_path_buf(),
        reason: reason.into(),
    }
}

pub async fn run(
    config_path: &Path,
    database: Option<PathBuf>,
    action: ContactsCommand,
) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, database)?;
    let store = super::store_of(&file, &base).await?;
    match action {
        ContactsCommand::Import {
            file,
            skip_bad_rows,
        } => {
            let data = std::fs::read(&file)
                .map_err(|err| file_error(&file, format!("cannot be read: {err}")))?;
            let parsed = parse_file(&file, &data);
            let report = store.import_contacts(parsed, !skip_bad_rows).await?;
            let lines: Vec<String> = report
                .problems
                .iter()
                .map(|problem| format!("line {}: {}", problem.line, problem.message))
                .collect();
            if !report.stored && !report.problems.is_empty() {
                let mut reason = lines
                    .iter()
                    .take(PROBLEMS_NAMED)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ");
                if lines.len() > PROBLEMS_NAMED {
                    reason.push_str(&format!("; and {} more", lines.len() - PROBLEMS_NAMED));
                }
                if skip_bad_rows {
                    reason.push_str("; nothing could be imported");
                } else {
                    reason.push_str(
                        "; nothing was imported (fix these lines, or pass --skip-bad-rows)",
                    );
                }
                return Err(file_error(&file, reason));
            }
            let detail = format!(
                "{} added, {} updated, {} bad rows skipped",
                report.added,
                report.updated,
                report.problems.len()
            );
            let entry = NewAuditEntry {
                at: Utc::now(),
                seat_id: COMMAND_LINE_SEAT,
                seat_name: "trubka-relay contacts import".into(),
                action: "contacts_import".into(),
                target: file.display().to_string(),
                outcome: Outcome::Done,
                code: None,
                detail: detail.clone(),
            };
            store.record(entry).await?;
            for line in &lines {
                eprintln!("skipped {line}");
            }
            println!("Imported {}: {detail}.", file.display());
        }
        ContactsCommand::List { json } => {
            let contacts = store.team_contacts().await?;
            if json {
                let text = serde_json::to_string_pretty(&contacts)
                    .map_err(|err| file_error(Path::new("-"), err.to_string()))?;
                println!("{text}");
            } else {
                for c in &contacts {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        c.id,
                        c.name,
                        c.company.as_deref().unwrap_or("-"),
                        c.numbers.join(", "),
                        c.manager.as_deref().unwrap_or("-"),
                    );
                }
            }
        }
        ContactsCommand::Export { file } => {
            let contacts = store.team_contacts().await?;
            let mut text = Vec::new();
            write_csv(&contacts, &mut text)
                .map_err(|err| file_error(&file, format!("cannot be written: {err}")))?;
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
                .map_err(|err| file_error(&file, format!("cannot be created: {err}")))?;
            out.write_all(&text)
                .map_err(|err| file_error(&file, format!("cannot be written: {err}")))?;
            eprintln!("Wrote {} contacts to {}", contacts.len(), file.display());
        }
    }
    Ok(())
}
