//! [`ParkedCallClaims`] on Postgres: `parked_call_claims`, with the database's clock for every
//! lease (`clock_timestamp()`, not the transaction's start: a claim may wait for another's
//! lock). Claims of one call (one caller to one parked number) take a transaction advisory lock
//! on that pair first, so two instances asking at the same moment — for the same leg, or for two
//! announcements of the same call — are answered one after the other. Acting is one
//! conditional `UPDATE`, which Postgres re-checks on the row after any concurrent takeover
//! commits, so a holder whose lease was taken cannot act.

use futures::FutureExt as _;
use futures::future::BoxFuture;

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::claims::{
    ClaimAnswer, ClaimState, ParkedCallClaim, ParkedCallClaims, REPEAT_WINDOW,
};

/// The first key of the claims' two-key advisory locks ("park" in ASCII); the second is a hash
/// of the call's caller and number. (Two-key locks never meet the one-key locks of the
/// migrations, the token refresh and the phonebook.)
const CLAIMS_LOCK: i32 = 0x7061_726b;

fn millis(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl ParkedCallClaims for PostgresStore {
    fn claim_parked_call(
        &self,
        claim: ParkedCallClaim,
    ) -> BoxFuture<'_, Result<ClaimAnswer, RelayError>> {
        async move {
            let mut client = self.reader().await?;
            let tx = client
                .transaction()
                .await
                .map_err(failed("starting a claim"))?;
            let call = format!("{}/{}", claim.caller_key, claim.external_number);
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&CLAIMS_LOCK, &call],
            )
            .await
            .map_err(failed("waiting for another instance's claim"))?;
            let window = millis(REPEAT_WINDOW.to_std().unwrap_or_default());
            let repeat = tx
                .query_opt(
                    "SELECT leg FROM parked_call_claims
                     WHERE caller_key = $1 AND $1 <> '' AND external_number = $2 AND leg <> $3
                       AND received_at > $4::timestamptz - make_interval(secs => $5::float8 / 1000.0)
                       AND received_at < $4::timestamptz + make_interval(secs => $5::float8 / 1000.0)
                     LIMIT 1",
                    &[
                        &claim.caller_key,
                        &claim.external_number,
                        &claim.leg,
                        &claim.received_at,
                        &window,
                    ],
                )
                .await
                .map_err(failed("looking for a repeat of a parked call"))?;
            let lease = millis(claim.lease);
            let answer = if repeat.is_some() {
                ClaimAnswer::Settled
            } else {
                let inserted = tx
                    .execute(
                        "INSERT INTO parked_call_claims (leg, caller_key, external_number,
                             received_at, token, holder, lease_until, state)
                         VALUES ($1, $2, $3, $4, $5, $6,
                             clock_timestamp() + make_interval(secs => $7::float8 / 1000.0), 'claimed')
                         ON CONFLICT (leg) DO NOTHING",
                        &[
                            &claim.leg,
                            &claim.caller_key,
                            &claim.external_number,
                            &claim.received_at,
                            &claim.token,
                            &claim.holder,
                            &lease,
                        ],
                    )
                    .await
                    .map_err(failed("claiming a parked call"))?;
                if inserted == 1 {
                    ClaimAnswer::Granted { taken_over: false }
                } else {
                    let taken = tx
                        .execute(
                            "UPDATE parked_call_claims
                             SET token = $2, holder = $3,
                                 lease_until = clock_timestamp() + make_interval(secs => $4::float8 / 1000.0),
                                 takeovers = takeovers + 1
                             WHERE leg = $1 AND state = 'claimed' AND lease_until <= clock_timestamp()",
                            &[&claim.leg, &claim.token, &claim.holder, &lease],
                        )
                        .await
                        .map_err(failed("taking a parked call over"))?;
                    if taken == 1 {
                        ClaimAnswer::Granted { taken_over: true }
                    } else {
                        let row = tx
                            .query_opt(
                                "SELECT state = 'claimed',
                                     GREATEST(EXTRACT(EPOCH FROM lease_until - clock_timestamp()), 0)::float8
                                 FROM parked_call_claims WHERE leg = $1",
                                &[&claim.leg],
                            )
                            .await
                            .map_err(failed("reading a parked call's claim"))?;
                        match row {
                            Some(row) if row.get::<_, bool>(0) => ClaimAnswer::HeldElsewhere {
                                lease_left: std::time::Duration::try_from_secs_f64(row.get(1))
                                    .unwrap_or_default(),
                            },
                            _ => ClaimAnswer::Settled,
                        }
                    }
                }
            };
            tx.commit().await.map_err(failed("committing a claim"))?;
            Ok(answer)
        }
        .boxed()
    }

    fn renew_claim(
        &self,
        leg: String,
        token: i64,
        lease: std::time::Duration,
    ) -> BoxFuture<'_, Result<bool, RelayError>> {
        async move {
            let client = self.reader().await?;
            let changed = client
                .execute(
                    "UPDATE parked_call_claims
                     SET lease_until = clock_timestamp() + make_interval(secs => $3::float8 / 1000.0)
                     WHERE leg = $1 AND token = $2 AND state = 'claimed'",
                    &[&leg, &token, &millis(lease)],
                )
                .await
                .map_err(failed("renewing a parked call's claim"))?;
            Ok(changed == 1)
        }
        .boxed()
    }

    fn start_acting(&self, leg: String, token: i64) -> BoxFuture<'_, Result<bool, RelayError>> {
        async move {
            let client = self.reader().await?;
            let changed = client
                .execute(
                    "UPDATE parked_call_claims SET state = 'acting'
                     WHERE leg = $1 AND token = $2 AND state = 'claimed' AND lease_until > clock_timestamp()",
                    &[&leg, &token],
                )
                .await
                .map_err(failed("acting on a parked call's claim"))?;
            Ok(changed == 1)
        }
        .boxed()
    }

    fn claim_of(&self, leg: String) -> BoxFuture<'_, Result<Option<ClaimState>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    "SELECT holder, takeovers, state = 'acting' FROM parked_call_claims
                     WHERE leg = $1",
                    &[&leg],
                )
                .await
                .map_err(failed("reading a parked call's claim"))?;
            Ok(row.map(|row| ClaimState {
                holder: row.get(0),
                takeovers: row.get(1),
                acting: row.get(2),
            }))
        }
        .boxed()
    }

    fn prune_claims_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "DELETE FROM parked_call_claims WHERE received_at < $1",
                    &[&cutoff],
                )
                .await
                .map_err(failed("forgetting old parked-call claims"))
        }
        .boxed()
    }
}
