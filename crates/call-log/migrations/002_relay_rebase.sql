-- A relay whose store was replaced numbers its events from 1 again. Ids are kept unique and
-- ordered in the log by adding an offset to every id from the new relay: stored id = relay id +
-- id_offset. The cursor column keeps stored ids; the relay is told last_relay_id - id_offset.
ALTER TABLE relay_cursor ADD COLUMN id_offset INTEGER NOT NULL DEFAULT 0;
