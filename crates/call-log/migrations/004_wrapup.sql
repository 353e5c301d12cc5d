-- After-call wrap-ups: what the operator noted about a call leg (a note, tags, a follow-up).
-- Keyed by the leg id, not by calls.id, and never written by applying events: a wrap-up saved
-- before its leg's row exists (the call's events still on their way) is kept, and a later event
-- (`recorded`, say) never touches it. The two meet by leg when they are read.
CREATE TABLE wrapups (
    id INTEGER PRIMARY KEY,
    leg TEXT NOT NULL UNIQUE,
    note TEXT NOT NULL DEFAULT '',
    -- The other side's number as the app knew it when the wrap-up was saved (the live call's),
    -- so that a follow-up and the next popup find it before the leg's row exists.
    peer_number TEXT,
    peer_key TEXT,
    saved_at INTEGER NOT NULL,
    -- Call back at this time (µs, UTC); done once the number is reached by a connected call.
    follow_up_at INTEGER,
    -- When the follow-up's notification was raised, so that it is raised once.
    follow_up_notified_at INTEGER
) STRICT;

CREATE INDEX wrapups_by_peer ON wrapups (peer_key, saved_at);
CREATE INDEX wrapups_follow_ups ON wrapups (follow_up_at) WHERE follow_up_at IS NOT NULL;

-- A wrap-up's tags, in the order the operator gave them.
CREATE TABLE wrapup_tags (
    leg TEXT NOT NULL,
    tag TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (leg, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX wrapup_tags_by_tag ON wrapup_tags (tag, leg);

-- Any three or more characters of a wrap-up's note or tags. The row id is wrapups.id.
CREATE VIRTUAL TABLE wrapups_search USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);
