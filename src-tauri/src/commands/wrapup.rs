//! The after-call wrap-up: saving a call's note, tags and follow-up, the tags to offer, and the
//! follow-ups waiting in the callback queue.

use tauri::State;

use crate::core::AppCore;
use crate::ipc::{FollowUpRow, IpcError, WrapUpDraft, WrapUpTags, WrapUpView};

/// The most follow-ups the callback queue lists.
const FOLLOW_UP_LIMIT: usize = 200;

/// Saves a call's wrap-up, replacing what was saved; bad input is refused with code `invalid`
/// and what was wrong, and nothing changes.
#[tauri::command]
pub(crate) async fn save_wrapup(
    core: State<'_, AppCore>,
    draft: WrapUpDraft,
) -> Result<WrapUpView, IpcError> {
    let edit = draft.edit()?;
    let saved = core
        .companion()
        .await?
        .save_wrapup(&draft.leg, edit)
        .await?;
    Ok(WrapUpView::from(&saved))
}

/// The tags to offer (the settings' list, or the team's with its "required"), then the others
/// used on calls so far.
#[tauri::command]
pub(crate) async fn wrapup_tags(core: State<'_, AppCore>) -> Result<WrapUpTags, IpcError> {
    Ok(core.companion().await?.wrapup_tags().await?.into())
}

/// The follow-ups not yet done (the number not reached since), soonest first.
#[tauri::command]
pub(crate) async fn follow_ups(core: State<'_, AppCore>) -> Result<Vec<FollowUpRow>, IpcError> {
    let open = core.companion().await?.follow_ups(FOLLOW_UP_LIMIT).await?;
    Ok(open.iter().map(FollowUpRow::from).collect())
}
