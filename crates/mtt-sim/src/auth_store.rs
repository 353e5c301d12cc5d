//! What the OAuth server has issued: authorization codes, access tokens and refresh tokens. The
//! shared state holds it and the Open API checks bearer tokens against it, so it lives apart
//! from the OAuth routes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// Issued codes and tokens.
#[derive(Debug, Default)]
pub(crate) struct AuthStore {
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, DateTime<Utc>>,
    refresh: HashMap<String, RefreshGrant>,
    refreshes: RefreshCounts,
    /// Token requests received and not answered yet (an injected latency holds them).
    open_token_requests: u64,
}

/// How many refreshes were answered, for tests that check a client kept its integration alive
/// by refreshing (and how often it was refused).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct RefreshCounts {
    pub(crate) served: u64,
    pub(crate) refused: u64,
    /// Of the refused, those whose refresh token a rotation had already replaced: a client
    /// that refreshed twice with one token (two processes that did not take turns, or one that
    /// lost the answer that rotated it).
    pub(crate) replaced: u64,
}

/// An authorization code as issued.
#[derive(Debug)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) used: bool,
}

/// A refresh token as issued.
#[derive(Debug)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) expires_at: DateTime<Utc>,
    /// A refresh rotated it: it was replaced by a new one and is refused from then on. Kept
    /// (rather than forgotten) so the refusal can say why.
    pub(crate) replaced: bool,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
}

impl AuthStore {
    pub(crate) fn check_access(&self, token: &str, now: DateTime<Utc>) -> Result<(), TokenProblem> {
        match self.access.get(token) {
            None => Err(TokenProblem::Unknown),
            Some(expires) if *expires <= now => Err(TokenProblem::Expired),
            Some(_) => Ok(()),
        }
    }

    /// The grant of an authorization code, to check and mark used.
    pub(crate) fn code_mut(&mut self, code: &str) -> Option<&mut CodeGrant> {
        self.codes.get_mut(code)
    }

    /// The grant of a refresh token, if it was ever issued.
    pub(crate) fn refresh_grant(&self, token: &str) -> Option<&RefreshGrant> {
        self.refresh.get(token)
    }

    /// Revokes a refresh token that a rotation replaced.
    pub(crate) fn mark_replaced(&mut self, token: &str) {
        if let Some(grant) = self.refresh.get_mut(token) {
            grant.replaced = true;
        }
    }

    /// Counts one refresh answered with new tokens (`true`) or refused.
    pub(crate) fn count_refresh(&mut self, served: bool) {
        let counts = &mut self.refreshes;
        if served {
            counts.served += 1;
        } else {
            counts.refused += 1;
        }
    }

    /// Counts one refresh refused because its token had already been replaced.
    pub(crate) fn count_replaced(&mut self) {
        self.refreshes.replaced += 1;
    }

    pub(crate) fn refresh_counts(&self) -> RefreshCounts {
        self.refreshes
    }

    /// A token request arrived; [`Self::token_request_done`] when it is answered or its client
    /// went away.
    pub(crate) fn token_request_opened(&mut self) {
        self.open_token_requests += 1;
    }

    pub(crate) fn token_request_done(&mut self) {
        self.open_token_requests = self.open_token_requests.saturating_sub(1);
    }

    pub(crate) fn open_token_requests(&self) -> u64 {
        self.open_token_requests
    }

    pub(crate) fn insert_access(&mut self, token: String, expires_at: DateTime<Utc>) {
        self.access.insert(token, expires_at);
    }

    pub(crate) fn insert_code(
        &mut self,
        code: String,
        client_id: String,
        redirect_uri: String,
        expires_at: DateTime<Utc>,
    ) {
        self.codes.insert(
            code,
            CodeGrant {
                client_id,
                redirect_uri,
                expires_at,
                used: false,
            },
        );
    }

    pub(crate) fn insert_refresh(
        &mut self,
        token: String,
        client_id: String,
        expires_at: DateTime<Utc>,
    ) {
        self.refresh.insert(
            token,
            RefreshGrant {
                client_id,
                expires_at,
                replaced: false,
            },
        );
    }
}
