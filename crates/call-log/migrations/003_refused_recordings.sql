-- Recording addresses are checked since this version (https, or http to this machine only; see
-- src/recording.rs). A call whose link an earlier version kept without the check loses it when
-- refused, and gets the best accepted address among its stored `recorded` events instead: the
-- migration's hook (`schema::recheck_recordings`) does this in Rust, by the merge's rule.
-- The schema itself does not change.
SELECT 1;
