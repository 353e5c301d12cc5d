//! The database's layout and its migrations. Several relays may start on one database at the
//! same moment, so migrating holds a session advisory lock: one instance applies what is
//! missing while the others wait, then find nothing left to do.

use tokio_postgres::Client;

use super::failed;
use crate::error::RelayError;

/// The advisory lock key every instance migrates under ("trubka" in ASCII).
const MIGRATION_LOCK: i64 = 0x7472_7562_6b61;

/// The migrations, in order; the database records how many it has had. Append only: a
/// migration that has shipped is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: the event log, its head (the last id handed out, the last receipt time and how far
    // retention reached), the store's own facts (epoch, keys generation) and the client keys.
    "
    CREATE TABLE events (
        id          BIGINT PRIMARY KEY,
        received_at TIMESTAMPTZ NOT NULL,
        kind        TEXT NOT NULL,
        body        TEXT NOT NULL,
        body_hash   BYTEA NOT NULL
    );
    CREATE INDEX events_by_body_hash ON events (body_hash);
    CREATE INDEX events_by_received_at ON events (received_at);
    CREATE TABLE event_log_head (
        only_row         BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        last_id          BIGINT NOT NULL,
        last_received_at TIMESTAMPTZ,
        pruned_through   BIGINT NOT NULL
    );
    INSERT INTO event_log_head (last_id, pruned_through) VALUES (0, 0);
    CREATE TABLE relay_meta (
        name  TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    CREATE TABLE client_keys (
        id         BIGSERIAL PRIMARY KEY,
        label      TEXT NOT NULL,
        key_hash   BYTEA NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
    );
    CREATE UNIQUE INDEX client_keys_active_label ON client_keys (label) WHERE revoked_at IS NULL;
    ",
    // 2: team mode: seats, their invites and credentials (hashes only), the integration's
    // sealed secrets, plain facts, the sign-ins the relay started; and routing's rules, caller
    // facts and journal.
    "
    CREATE TABLE seats (
        id                BIGSERIAL PRIMARY KEY,
        name              TEXT NOT NULL,
        workplace         TEXT NOT NULL,
        role              TEXT NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL,
        revoked_at        TIMESTAMPTZ,
        delete_local_data BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE seat_credentials (
        id         BIGSERIAL PRIMARY KEY,
        seat_id    BIGINT NOT NULL REFERENCES seats (id),
        hash       BYTEA NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
    );
    CREATE TABLE invites (
        id            BIGSERIAL PRIMARY KEY,
        seat_id       BIGINT NOT NULL REFERENCES seats (id),
        code_hash     BYTEA NOT NULL UNIQUE,
        created_at    TIMESTAMPTZ NOT NULL,
        expires_at    TIMESTAMPTZ NOT NULL,
        used_at       TIMESTAMPTZ,
        superseded_at TIMESTAMPTZ
    );
    CREATE TABLE sealed_secrets (
        name       TEXT PRIMARY KEY,
        sealed     BYTEA NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE team_facts (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE connect_states (
        state_hash BYTEA PRIMARY KEY,
        expires_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE routing_rules (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        rules      TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE routing_callers (
        number_key       TEXT PRIMARY KEY,
        first_seen_at    TIMESTAMPTZ NOT NULL,
        last_seen_at     TIMESTAMPTZ NOT NULL,
        last_operator    TEXT,
        last_operator_at TIMESTAMPTZ
    );
    CREATE INDEX routing_callers_by_last_seen ON routing_callers (last_seen_at);
    CREATE TABLE routing_journal (
        id            BIGSERIAL PRIMARY KEY,
        leg           TEXT NOT NULL,
        caller_number TEXT,
        line_number   TEXT,
        rule          TEXT,
        target        TEXT,
        outcome       TEXT NOT NULL,
        detail        TEXT,
        decided_at    TIMESTAMPTZ NOT NULL,
        took_ms       BIGINT NOT NULL,
        deadline_ms   BIGINT NOT NULL
    );
    CREATE INDEX routing_journal_by_decided_at ON routing_journal (decided_at);
    ",
    // 3: the audit log, the team's wrap-ups and the team phonebook (a contact keeps the
    // version of its last change and a tombstone when deleted).
    "
    CREATE TABLE audit_log (
        id        BIGSERIAL PRIMARY KEY,
        at        TIMESTAMPTZ NOT NULL,
        seat_id   BIGINT NOT NULL,
        seat_name TEXT NOT NULL,
        action    TEXT NOT NULL,
        target    TEXT NOT NULL,
        outcome   TEXT NOT NULL,
        code      TEXT,
        detail    TEXT NOT NULL
    );
    CREATE INDEX audit_log_by_at ON audit_log (at);
    CREATE TABLE team_wrapups (
        id        BIGSERIAL PRIMARY KEY,
        leg_id    TEXT NOT NULL,
        number    TEXT NOT NULL,
        seat_id   BIGINT NOT NULL,
        seat_name TEXT NOT NULL,
        workplace TEXT NOT NULL,
        note      TEXT NOT NULL,
        tags      TEXT NOT NULL,
        saved_at  TIMESTAMPTZ NOT NULL,
        UNIQUE (leg_id, seat_id)
    );
    CREATE INDEX team_wrapups_by_number ON team_wrapups (number, saved_at);
    CREATE INDEX team_wrapups_by_saved_at ON team_wrapups (saved_at);
    CREATE TABLE team_contacts (
        id         BIGSERIAL PRIMARY KEY,
        name       TEXT NOT NULL,
        company    TEXT,
        manager    TEXT,
        notes      TEXT,
        version    BIGINT NOT NULL UNIQUE,
        updated_at TIMESTAMPTZ NOT NULL,
        deleted    BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE team_contact_numbers (
        contact_id BIGINT NOT NULL REFERENCES team_contacts (id),
        position   BIGINT NOT NULL,
        number     TEXT NOT NULL,
        key        TEXT NOT NULL,
        PRIMARY KEY (contact_id, position)
    );
    CREATE INDEX team_contact_numbers_by_key ON team_contact_numbers (key);
    ",
    // 4: the admin console's accounts and sessions (hashes only), and what was seen of each
    // seat's app.
    "
    CREATE TABLE console_accounts (
        seat_id         BIGINT PRIMARY KEY REFERENCES seats (id),
        password_hash   TEXT NOT NULL,
        failed_in_a_row BIGINT NOT NULL DEFAULT 0,
        locked_until    TIMESTAMPTZ,
        updated_at      TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE console_sessions (
        id_hash      BYTEA PRIMARY KEY,
        csrf_hash    BYTEA NOT NULL,
        seat_id      BIGINT NOT NULL REFERENCES seats (id),
        created_at   TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX console_sessions_by_seat ON console_sessions (seat_id);
    ALTER TABLE seats ADD COLUMN app_version TEXT;
    ALTER TABLE seats ADD COLUMN last_seen_at TIMESTAMPTZ;
    ",
    // 5: who decides each parked call (a claim with a lease; see `store::claims`).
    "
    CREATE TABLE parked_call_claims (
        leg             TEXT PRIMARY KEY,
        caller_key      TEXT NOT NULL,
        external_number TEXT NOT NULL,
        received_at     TIMESTAMPTZ NOT NULL,
        token           BIGINT NOT NULL,
        holder          TEXT NOT NULL,
        lease_until     TIMESTAMPTZ NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('claimed', 'acting')),
        takeovers       BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX parked_call_claims_by_call
        ON parked_call_claims (caller_key, external_number, received_at);
    ",
    // 6: notifications staged by the instances' writers before a move gives them ids, the
    // outcomes a move leaves for other writers, and the move itself (see `sequencer`).
    // Unlogged: their commits wait for no disk, and after a crash they are empty, which loses
    // nothing answered.
    "
    CREATE UNLOGGED TABLE staged_events (
        arrival   BIGSERIAL PRIMARY KEY,
        origin    BIGINT NOT NULL,
        n         BIGINT NOT NULL,
        staged_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        kind      TEXT NOT NULL,
        body      TEXT NOT NULL,
        body_hash BYTEA NOT NULL,
        mergeable BOOLEAN NOT NULL
    );
    CREATE UNLOGGED TABLE staged_outcomes (
        origin     BIGINT NOT NULL,
        n          BIGINT NOT NULL,
        event_id   BIGINT NOT NULL,
        duplicate  BOOLEAN NOT NULL,
        decided_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (origin, n)
    );
    CREATE FUNCTION trubka_sequence(
        p_lock BIGINT, p_channel TEXT, p_origin BIGINT, p_ns BIGINT[], p_window_secs FLOAT8
    ) RETURNS TABLE (out_n BIGINT, out_id BIGINT, out_duplicate BOOLEAN)
    LANGUAGE plpgsql AS $fn$
    DECLARE
        taken    BIGINT;
        head_id  BIGINT;
        head_at  TIMESTAMPTZ;
        first_id BIGINT;
        stamp    TIMESTAMPTZ;
        a_origin BIGINT[];
        a_n      BIGINT[];
        a_kind   TEXT[];
        a_body   TEXT[];
        a_hash   BYTEA[];
        a_merge  BOOLEAN[];
        found_id BIGINT;
        the_id   BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(p_lock);
        RETURN QUERY
            DELETE FROM staged_outcomes o WHERE o.origin = p_origin AND o.n = ANY (p_ns)
            RETURNING o.n, o.event_id, o.duplicate;
        GET DIAGNOSTICS taken = ROW_COUNT;
        IF cardinality(p_ns) > 0 AND taken = cardinality(p_ns) THEN
            RETURN;
        END IF;
        WITH d AS (
            DELETE FROM staged_events
            RETURNING arrival, origin, n, kind, body, body_hash, mergeable
        )
        SELECT array_agg(d.origin ORDER BY d.arrival), array_agg(d.n ORDER BY d.arrival),
               array_agg(d.kind ORDER BY d.arrival), array_agg(d.body ORDER BY d.arrival),
               array_agg(d.body_hash ORDER BY d.arrival),
               array_agg(d.mergeable ORDER BY d.arrival)
        INTO a_origin, a_n, a_kind, a_body, a_hash, a_merge
        FROM d;
        IF a_n IS NULL THEN
            RETURN;
        END IF;
        SELECT h.last_id, h.last_received_at INTO head_id, head_at
        FROM event_log_head h FOR UPDATE;
        first_id := head_id;
        stamp := greatest(date_trunc('milliseconds', clock_timestamp()), head_at);
        FOR i IN 1 .. cardinality(a_n) LOOP
            found_id := NULL;
            IF a_merge[i] THEN
                SELECT min(e.id) INTO found_id FROM events e
                WHERE e.body_hash = a_hash[i]
                  AND e.received_at >= stamp - make_interval(secs => p_window_secs);
            END IF;
            IF found_id IS NULL THEN
                head_id := head_id + 1;
                the_id := head_id;
                INSERT INTO events (id, received_at, kind, body, body_hash)
                VALUES (head_id, stamp, a_kind[i], a_body[i], a_hash[i]);
            ELSE
                the_id := found_id;
            END IF;
            IF a_origin[i] = p_origin THEN
                out_n := a_n[i];
                out_id := the_id;
                out_duplicate := found_id IS NOT NULL;
                RETURN NEXT;
            ELSE
                INSERT INTO staged_outcomes (origin, n, event_id, duplicate)
                VALUES (a_origin[i], a_n[i], the_id, found_id IS NOT NULL);
            END IF;
        END LOOP;
        IF head_id > first_id THEN
            UPDATE event_log_head SET last_id = head_id, last_received_at = stamp;
            PERFORM pg_notify(p_channel, head_id::TEXT);
        END IF;
    END
    $fn$;
    ",
    // 7: the event log's indexes carry the id after their key. A move's repeat lookup
    // (`min(id)` of one body hash within the window) and retention's horizon (the last id
    // received before the cutoff) then read a few entries of their own index. With the key
    // alone Postgres answered `min(id)`/`max(id)` by walking the primary key in id order and
    // filtering: a call event's body not seen before (nearly every one) walked the whole log, 100-300 ms at
    // 200,000 events while every instance's move waited on the sequencer lock.
    "
    DROP INDEX events_by_body_hash;
    CREATE INDEX events_by_body_hash ON events (body_hash, id);
    DROP INDEX events_by_received_at;
    CREATE INDEX events_by_received_at ON events (received_at, id);
    ",
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`], each migration in a transaction of its own.
pub(super) async fn migrate(client: &mut Client) -> Result<(), RelayError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed("waiting for another instance's migration"))?;
    let migrated = apply(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed("ending the migration"));
    migrated.and(unlocked.map(drop))
}

async fn apply(client: &mut Client) -> Result<(), RelayError> {
    // Looked up first rather than `CREATE TABLE IF NOT EXISTS`, whose NOTICE ("already
    // exists, skipping") every command and instance would log; the advisory lock held here
    // keeps another instance from creating it in between.
    let exists: bool = client
        .query_one("SELECT to_regclass('relay_schema') IS NOT NULL", &[])
        .await
        .map_err(failed("reading the schema version"))?
        .get(0);
    if !exists {
        client
            .batch_execute("CREATE TABLE relay_schema (version BIGINT NOT NULL)")
            .await
            .map_err(failed("creating the schema table"))?;
    }
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM relay_schema", &[])
        .await
        .map_err(failed("reading the schema version"))?;
    let version: i64 = row.get(0);
    if version > SCHEMA_VERSION {
        return Err(RelayError::StoreNewer {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let next = index as i64 + 1;
        let tx = client
            .transaction()
            .await
            .map_err(failed("starting a migration"))?;
        tx.batch_execute(migration)
            .await
            .map_err(failed("applying a migration"))?;
        tx.execute("INSERT INTO relay_schema (version) VALUES ($1)", &[&next])
            .await
            .map_err(failed("recording a migration"))?;
        tx.commit()
            .await
            .map_err(failed("committing a migration"))?;
        tracing::info!(version = next, "postgres store migrated");
    }
    Ok(())
}
