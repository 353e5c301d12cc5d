//! `mtt-api`'s [`TokenStore`] over the team store, sealed: the session's refresh logic (single
//! flight, a refused refresh clearing only the refused token, saves retried) is `mtt-api`'s,
//! and only where the tokens live is the relay's.

use std::fmt;

use mtt_api::{Error, TokenSet, TokenStore};
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::sealing::Sealer;
use crate::store::team::SharedTeamStore;

/// The sealed record of the integration's tokens.
pub const INTEGRATION_TOKENS: &str = "integration.tokens";

/// The integration's client id and secret, as sealed under
/// [`crate::store::team::INTEGRATION_CLIENT`].
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCredentials {
    /// The integration's client id.
    pub client_id: String,
    /// The integration's client secret.
    pub client_secret: mtt_api::ClientSecret,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// The tokens, sealed in the team store. `mtt-api`'s session calls it on tokio's blocking
/// pool, where waiting for the store's future is allowed.
pub struct SealedTokenStore {
    team: SharedTeamStore,
    sealer: Sealer,
    runtime: Handle,
}

impl fmt::Debug for SealedTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedTokenStore")
            .field("sealer", &self.sealer)
            .finish()
    }
}

impl SealedTokenStore {
    /// A token store over `team`, sealing with `sealer`, waiting on `runtime`.
    pub fn new(team: SharedTeamStore, sealer: Sealer, runtime: Handle) -> Self {
        Self {
            team,
            sealer,
            runtime,
        }
    }
}

impl TokenStore for SealedTokenStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        let sealed = self
            .runtime
            .block_on(self.team.sealed(INTEGRATION_TOKENS.to_owned()))
            .map_err(|err| Error::TokenStore(err.to_string()))?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        // A value that does not open (another key, a damaged file) is the store's problem, not
        // unreadable tokens: the session must not clear them, or fixing the key would not help.
        let plain = self
            .sealer
            .open(INTEGRATION_TOKENS, &sealed)
            .map_err(|err| Error::TokenStore(err.to_string()))?;
        serde_json::from_slice(&plain).map(Some).map_err(|err| {
            Error::StoredTokensUnreadable(format!("not tokens: {}", err.classify_text()))
        })
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        let plain = serde_json::to_vec(tokens).map_err(|err| Error::TokenStore(err.to_string()))?;
        let sealed = self
            .sealer
            .seal(INTEGRATION_TOKENS, &plain)
            .map_err(|err| Error::TokenStore(err.to_string()))?;
        self.runtime
            .block_on(self.team.put_sealed(INTEGRATION_TOKENS.to_owned(), sealed))
            .map_err(|err| Error::TokenStore(err.to_string()))
    }

    fn clear(&self) -> Result<(), Error> {
        self.runtime
            .block_on(self.team.delete_sealed(vec![INTEGRATION_TOKENS.to_owned()]))
            .map_err(|err| Error::TokenStore(err.to_string()))
    }

    /// Several relay instances on one store (Postgres) refresh one at a time: the session
    /// re-reads the store under the lock and takes the tokens another instance just refreshed.
    fn lock(&self) -> Result<mtt_api::StoreLock, Error> {
        let held = self
            .runtime
            .block_on(self.team.refresh_lock())
            .map_err(|err| Error::TokenStore(err.to_string()))?;
        Ok(mtt_api::StoreLock::new(held))
    }
}

/// Says what kind of JSON error it was without quoting a value (serde quotes them).
trait ClassifyText {
    fn classify_text(&self) -> &'static str;
}

impl ClassifyText for serde_json::Error {
    fn classify_text(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Data => "a field is missing or of the wrong type",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Eof => "it ends too early",
            serde_json::error::Category::Io => "it could not be read",
        }
    }
}
