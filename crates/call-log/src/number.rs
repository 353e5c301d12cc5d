//! The one key numbers meet on lives in the `phonebook` crate, which the team relay shares;
//! the call log's modules keep reaching it here.

pub use phonebook::{normalize_number, sip_id_of};
