//! A phonebook file's bytes as text, whatever encoding it was saved in.
//!
//! Files come from phones (UTF-8), Outlook and Excel on Windows with Russian settings (the ANSI
//! code page, Windows-1251, without a byte order mark), Excel's "Unicode text" (UTF-16 with a
//! BOM) and the odd KOI8-R. The order of the checks:
//!
//! 1. a byte order mark names the encoding;
//! 2. text that is valid UTF-8 is UTF-8 (a legacy encoding almost never is);
//! 3. UTF-8 with a few broken sequences among many good ones (a row pasted from elsewhere) is
//!    UTF-8, [`DecodedText::lossy`]: the reader reports the rows that hold a broken sequence
//!    rather than misreading the whole file;
//! 4. anything else goes to `chardetng`, Firefox's detector, told that the file comes from a
//!    Russian user (`.ru`), which tells Windows-1251 from KOI8-R.

use std::borrow::Cow;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::Encoding;

/// How many good multi-byte UTF-8 characters per broken sequence still make a file UTF-8. In
/// Windows-1251 or KOI8-R text nearly every letter is a broken sequence and almost none is a
/// good one, so the two cases lie far apart.
const GOOD_PER_BROKEN_UTF8: usize = 4;

/// A file's text.
#[derive(Debug)]
pub(crate) struct DecodedText<'a> {
    /// The text; a broken UTF-8 sequence is read as U+FFFD.
    pub text: Cow<'a, str>,
    /// Whether it is UTF-8 with broken sequences, which show as U+FFFD.
    pub lossy: bool,
}

/// Whether mostly-good UTF-8 with some broken sequences should still be read as UTF-8.
fn is_mostly_utf8(data: &[u8]) -> bool {
    let (mut good, mut broken) = (0, 0);
    for chunk in data.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        broken += usize::from(!chunk.invalid().is_empty());
    }
    good >= broken.saturating_mul(GOOD_PER_BROKEN_UTF8)
}

/// The text of a file, read in the encoding it was most likely saved in.
pub(crate) fn decode_text(data: &[u8]) -> DecodedText<'_> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(data) {
        let (text, lossy) = encoding.decode_without_bom_handling(&data[bom_length..]);
        return DecodedText { text, lossy };
    }
    if let Ok(text) = std::str::from_utf8(data) {
        return DecodedText {
            text: Cow::Borrowed(text),
            lossy: false,
        };
    }
    if is_mostly_utf8(data) {
        return DecodedText {
            text: String::from_utf8_lossy(data),
            lossy: true,
        };
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(data, true);
    let encoding = detector.guess(Some(b"ru"), Utf8Detection::Allow);
    let (text, lossy) = encoding.decode_without_bom_handling(data);
    DecodedText { text, lossy }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_encoding_is_recognised() {
        let text = "Имя;Телефон\r\nЁлкина Анна;+7 921 946-27-61\r\n";
        for encoding in [
            encoding_rs::WINDOWS_1251,
            encoding_rs::KOI8_R,
            encoding_rs::UTF_8,
        ] {
            let data = encoding.encode(text).0;
            // KOI8-R may be taken for KOI8-U, which differs only in Ukrainian letters.
            let decoded = decode_text(&data);
            assert_eq!(decoded.text, text, "{encoding:?}");
            assert!(!decoded.lossy);
        }
    }

    #[test]
    fn a_broken_row_in_a_utf8_file_leaves_the_rest_readable() {
        let mut data = "Имя;Телефон\nИван Петров;+79219462761\n"
            .as_bytes()
            .to_vec();
        data.extend_from_slice(b"\xc8\xec\xff;+79031112233\n");
        let decoded = decode_text(&data);
        assert!(decoded.lossy);
        assert!(decoded.text.starts_with("Имя;Телефон\nИван Петров"));
        assert!(decoded.text.contains('\u{fffd}'));
    }
}
