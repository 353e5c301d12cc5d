//! `trubka-relay tags list|set …`: the team's wrap-up tags, and whether an answered call's
//! wrap-up must carry one (what `PUT /team/tags` sets for an admin's seat). A running relay
//! reads them from the store at each request, so a change here applies at once.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use relay::RelayError;
use team_api::wrapup::{TeamTags, tags_problem};

use super::settings;

#[derive(Debug, Subcommand)]
pub enum TagsCommand {
    /// Print the team's tags, and whether an answered call must carry one.
    List {
        /// JSON for scripts: `{"tags": […], "required": …}`.
        #[arg(long)]
        json: bool,
    },
    /// Replace the team's tags with these, in this order (none: no tags).
    Set {
        /// The tags: each once (whatever its case), without spaces around it.
        tags: Vec<String>,
        /// An answered call's wrap-up must carry one of them.
        #[arg(long)]
        required: bool,
    },
}

/// Why `tags` cannot be the team's list, in words.
fn problem(tags: &TeamTags) -> Option<String> {
    if let Some(problem) = tags_problem(&tags.tags) {
        return Some(problem);
    }
    (tags.required && tags.tags.is_empty())
        .then(|| "--required needs a list of tags to choose from".to_owned())
}

pub async fn run(
    config_path: &Path,
    database: Option<PathBuf>,
    command: TagsCommand,
) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, database)?;
    let store = super::store_of(&file, &base).await?;
    match command {
        TagsCommand::List { json } => {
            let tags = store.team_tags().await?;
            if json {
                let text =
                    serde_json::to_string_pretty(&tags).map_err(|e| RelayError::TeamInput {
                        field: "tags",
                        reason: format!("the tags could not be written as JSON: {e}"),
                    })?;
                println!("{text}");
            } else if tags.tags.is_empty() {
                println!("The team has no tags; none is required.");
            } else {
                let rule = if tags.required {
                    "one is required on an answered call"
                } else {
                    "none is required"
                };
                println!("The team's tags ({rule}):");
                for tag in &tags.tags {
                    println!("  {tag}");
                }
            }
        }
        TagsCommand::Set { tags, required } => {
            let tags = TeamTags { tags, required };
            if let Some(reason) = problem(&tags) {
                return Err(RelayError::TeamInput {
                    field: "tags",
                    reason,
                });
            }
            let count = tags.tags.len();
            store.set_team_tags(tags).await?;
            let rule = if required {
                "; an answered call's wrap-up must carry one"
            } else {
                ""
            };
            println!("The team has {count} tags now{rule}.");
        }
    }
    Ok(())
}
