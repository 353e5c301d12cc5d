//! Identifiers in the formats the document shows, drawn from the seeded random source.

use rand::Rng;
use rand::rngs::StdRng;

const HEX_LOWER: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn draw(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

fn digits(rng: &mut StdRng, len: usize) -> String {
    draw(rng, b"0123456789", len)
}

/// A leg of an outgoing call and its tag:
/// `SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1`, `sdfe2n901-281028329`.
pub(crate) fn outgoing_leg(rng: &mut StdRng) -> (String, String) {
    let node = format!("{}{}", draw(rng, LOWER_ALNUM, 4), digits(rng, 3));
    let id = format!(
        "SD{node}-{}{}@127.0.0.1",
        draw(rng, HEX_LOWER, 32),
        digits(rng, 3)
    );
    let tag = format!("sd{node}-{}", digits(rng, 9));
    (id, tag)
}

/// A leg of an incoming call and its tag:
/// `c166e238a4c211ea9d373863bb43daf8_00015ED635780FC7~1o`, `hswdfry52vmykfla____.o`.
pub(crate) fn incoming_leg(rng: &mut StdRng) -> (String, String) {
    let id = format!(
        "{}_{}~1o",
        draw(rng, HEX_LOWER, 32),
        draw(rng, HEX_UPPER, 16)
    );
    let tag = format!("{}____.o", draw(rng, LOWER_ALNUM, 16));
    (id, tag)
}

/// A parking leg and its tag:
/// `b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o`, `133609`.
pub(crate) fn parking_leg(rng: &mut StdRng) -> (String, String) {
    let id = format!(
        "{}_{}_{}~2o",
        draw(rng, HEX_LOWER, 32),
        draw(rng, HEX_UPPER, 16),
        draw(rng, HEX_UPPER, 6)
    );
    (id, digits(rng, 6))
}

/// makeCall's answer id: `7NKe6!8fa1FMS1c6ypZdb1GSV6ZN@10.133.51.137`.
pub(crate) fn originate_id(rng: &mut StdRng) -> String {
    let mut body = draw(rng, MIXED_ALNUM, 28);
    body.replace_range(5..6, "!");
    format!("{body}@10.133.51.137")
}

/// Transport ids seen in the document, for outgoing and incoming legs.
pub(crate) fn transport(rng: &mut StdRng, incoming: bool) -> String {
    let choices: &[&str] = if incoming {
        &["10.133.33.136:5073", "10.133.33.137:5073"]
    } else {
        &["10.133.51.137:5070", "10.133.51.138:5070"]
    };
    choices[rng.random_range(0..choices.len())].to_owned()
}

/// An OAuth code or token: 48 characters like `MMRLZJU5NTETMTNHZI0ZNIYLWJHOTGTNjY1M2ZMM2YZNMjX`.
pub(crate) fn token(rng: &mut StdRng) -> String {
    draw(rng, TOKEN_CHARS, 48)
}

/// A recording's file name without extension.
pub(crate) fn record(rng: &mut StdRng) -> String {
    draw(rng, HEX_LOWER, 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_have_the_documents_shapes_and_repeat_with_the_seed() {
        let mut a = StdRng::seed_from_u64(1);
        let mut b = StdRng::seed_from_u64(1);
        let (id, tag) = outgoing_leg(&mut a);
        assert_eq!((id.clone(), tag.clone()), outgoing_leg(&mut b));
        assert!(id.starts_with("SD") && id.ends_with("@127.0.0.1"), "{id}");
        assert_eq!(
            id.len(),
            "SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1".len()
        );
        assert_eq!(tag.len(), "sdfe2n901-281028329".len());
        assert_eq!(tag[2..9], id[2..9]);
        let (id, tag) = incoming_leg(&mut a);
        assert_eq!(
            id.len(),
            "c166e238a4c211ea9d373863bb43daf8_00015ED635780FC7~1o".len()
        );
        assert!(tag.ends_with("____.o"));
        let (id, tag) = parking_leg(&mut a);
        assert_eq!(
            id.len(),
            "b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o".len()
        );
        assert_eq!(tag.len(), 6);
        let o = originate_id(&mut a);
        assert_eq!(o.len(), "7NKe6!8fa1FMS1c6ypZdb1GSV6ZN@10.133.51.137".len());
        assert_eq!(&o[5..6], "!");
        assert_eq!(token(&mut a).len(), 48);
    }
}
