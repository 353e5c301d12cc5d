-- The clean-up removes raw events by their age (src/maintenance.rs): without this index every
-- run read the whole events table, the largest in the file, while holding the writer.
CREATE INDEX events_by_time ON events (received_at);
