-- The first schema of the call log. Times are microseconds since the Unix epoch, UTC.

-- One row per call leg, keyed by the PBX's leg Call-ID. Every column is a deterministic function
-- of the set of events applied for that leg (see src/apply.rs for the merge rules); the *_relay and
-- parties_rank columns remember which event a group of columns came from so that a later,
-- "better" event can replace it whatever the order of arrival.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    leg TEXT NOT NULL UNIQUE,
    direction TEXT,
    state TEXT NOT NULL,
    state_rank INTEGER NOT NULL,
    caller_number TEXT,
    caller_name TEXT,
    caller_key TEXT,
    callee_number TEXT,
    callee_name TEXT,
    callee_key TEXT,
    -- The party outside the company (the caller of an incoming call, the callee of an outgoing
    -- one) and the company's own external number that was dialled or shown.
    peer_number TEXT,
    peer_key TEXT,
    line_number TEXT,
    parties_rank INTEGER NOT NULL,
    parties_relay INTEGER NOT NULL,
    tag TEXT,
    transport_id TEXT,
    first_seen_at INTEGER NOT NULL,
    last_event_at INTEGER NOT NULL,
    pbx_start_raw TEXT,
    pbx_start_utc INTEGER,
    pbx_start_from_trying INTEGER NOT NULL DEFAULT 0,
    answered_at INTEGER,
    answered_by TEXT,
    hidden_at INTEGER,
    ended_at INTEGER,
    finished_relay INTEGER,
    duration INTEGER,
    end_reason TEXT,
    end_reason_code TEXT,
    recorded_at INTEGER,
    recorded_relay INTEGER,
    recording_url TEXT,
    routed INTEGER NOT NULL DEFAULT 0,
    transfer_target TEXT,
    missed INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX calls_by_time ON calls (first_seen_at);
CREATE INDEX calls_by_peer ON calls (peer_key, first_seen_at);
CREATE INDEX calls_missed ON calls (first_seen_at) WHERE missed = 1;
CREATE INDEX calls_recorded ON calls (first_seen_at) WHERE recording_url IS NOT NULL;

-- The workplace SIP IDs that took part in a call, for "my calls" and "last operator". The call's
-- start is copied here so that one workplace's history pages straight off this table's key.
CREATE TABLE call_workplaces (
    sip_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    call_id INTEGER NOT NULL,
    PRIMARY KEY (sip_id, started_at, call_id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX call_workplaces_by_call ON call_workplaces (call_id, sip_id);

-- Any three or more characters of a number (as shown or normalised) or of a name. The row id is
-- calls.id; the text is maintained by the writer whenever a call's parties change.
CREATE VIRTUAL TABLE calls_search USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);

-- Every event applied, exactly as received. relay_id is the relay's sequence number, so applying
-- the same event twice is detected here.
CREATE TABLE events (
    relay_id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    call_id INTEGER,
    state TEXT,
    raw TEXT NOT NULL
) STRICT;

CREATE INDEX events_by_call ON events (call_id) WHERE call_id IS NOT NULL;

-- The last relay event id applied; a single row.
CREATE TABLE relay_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_relay_id INTEGER NOT NULL
) STRICT;

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    company TEXT,
    manager_sip_id TEXT,
    notes TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE contact_numbers (
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    number TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (contact_id, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX contact_numbers_by_key ON contact_numbers (key);

CREATE VIRTUAL TABLE contacts_search USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);

-- Why each parked call went where it did.
CREATE TABLE routing_decisions (
    id INTEGER PRIMARY KEY,
    leg TEXT NOT NULL,
    caller_number TEXT,
    line_number TEXT,
    rule TEXT,
    target TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    decided_at INTEGER NOT NULL,
    took_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX routing_by_leg ON routing_decisions (leg);
CREATE INDEX routing_by_time ON routing_decisions (decided_at);
