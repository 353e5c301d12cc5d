//! A phonebook file's bytes as text, whatever encoding it was saved in.
//!
//! Files come from phones (UTF-8), Outlook and Excel on Windows with Russian settings (the ANSI
//! code page, Windows-1251, without a byte order mark), Excel's "Unicode text" (UTF-16 with a
//! BOM) and the odd KOI8-R. The order of the checks: a byte order mark names the encoding; text
//! that is valid UTF-8 is UTF-8 (a legacy encoding almost never is); anything else goes to
//! `chardetng`, Firefox's detector, told that the file comes from a Russian user (`.ru`), which
//! tells Windows-1251 from KOI8-R and from UTF-8 with a stray broken byte.

use std::borrow::Cow;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::Encoding;

/// The text of a file, and the encoding it was read in.
pub(crate) fn decode_text(data: &[u8]) -> (Cow<'_, str>, &'static Encoding) {
    if let Some((encoding, bom_length)) = Encoding::for_bom(data) {
        let (text, _) = encoding.decode_without_bom_handling(&data[bom_length..]);
        return (text, encoding);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        return (Cow::Borrowed(text), encoding_rs::UTF_8);
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(data, true);
    let encoding = detector.guess(Some(b"ru"), Utf8Detection::Allow);
    let (text, _) = encoding.decode_without_bom_handling(data);
    (text, encoding)
}
