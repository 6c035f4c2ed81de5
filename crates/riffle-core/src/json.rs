//! JSON text written by hand where building `serde_json` values would cost too much (the events
//! handed to functions, the emulator's busiest answers): string literals and decimal integers,
//! into a `String` or a `Vec<u8>`.
//!
//! Invariant: [`write_string`] appends exactly what `serde_json::to_string` writes for the same
//! string (same escapes, lower-case `\u00XX` for other control characters, everything else kept
//! as is), and [`escaped_len`] is the length of its content without the quotes, so a caller can
//! size a buffer without writing anything.

/// A buffer JSON text is appended to.
pub trait JsonBuf {
    /// Appends `text` as it is.
    fn push_text(&mut self, text: &str);
    /// Makes room for `additional` more bytes.
    fn reserve_bytes(&mut self, additional: usize);
}

impl JsonBuf for String {
    fn push_text(&mut self, text: &str) {
        self.push_str(text);
    }
    fn reserve_bytes(&mut self, additional: usize) {
        self.reserve(additional);
    }
}

impl JsonBuf for Vec<u8> {
    fn push_text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
    fn reserve_bytes(&mut self, additional: usize) {
        self.reserve(additional);
    }
}

/// The escape serde_json writes for `byte` inside a string: `None` when the byte is kept,
/// `Some("")` for a control character written as `\u00XX`.
fn escape(byte: u8) -> Option<&'static str> {
    match byte {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        b'\n' => Some("\\n"),
        b'\r' => Some("\\r"),
        b'\t' => Some("\\t"),
        0x08 => Some("\\b"),
        0x0c => Some("\\f"),
        0..0x20 => Some(""),
        _ => None,
    }
}

/// Appends the content of `value` as a JSON string literal, escaped, without the quotes.
pub fn write_content<B: JsonBuf + ?Sized>(out: &mut B, value: &str) {
    let mut start = 0;
    for (i, &byte) in value.as_bytes().iter().enumerate() {
        let Some(escaped) = escape(byte) else {
            continue;
        };
        // Escaped bytes are ASCII, so `i` is a character boundary.
        out.push_text(&value[start..i]);
        if escaped.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let code = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ];
            out.push_text(std::str::from_utf8(&code).expect("ASCII"));
        } else {
            out.push_text(escaped);
        }
        start = i + 1;
    }
    out.push_text(&value[start..]);
}

/// Appends `value` as a JSON string literal, quotes included.
pub fn write_string<B: JsonBuf + ?Sized>(out: &mut B, value: &str) {
    out.reserve_bytes(value.len() + 2);
    out.push_text("\"");
    write_content(out, value);
    out.push_text("\"");
}

/// Length of `value`'s content escaped by [`write_content`], without the quotes.
pub fn escaped_len(value: &str) -> usize {
    value.len()
        + value
            .bytes()
            .map(|b| escape(b).map_or(0, |e| if e.is_empty() { 5 } else { 1 }))
            .sum::<usize>()
}

/// Digits of `value` in decimal.
pub fn decimal_len(mut value: u64) -> usize {
    let mut digits = 1;
    while value >= 10 {
        value /= 10;
        digits += 1;
    }
    digits
}

/// Appends `value` in decimal.
pub fn write_u64<B: JsonBuf + ?Sized>(out: &mut B, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push_text(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json_for_every_ascii_and_some_unicode() {
        let mut samples: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        samples.extend(
            [
                "",
                "plain",
                "é ü 日本 😀",
                "a\"b\\c\u{1f}d\u{7f}",
                "\u{2028}\u{2029}",
            ]
            .map(String::from),
        );
        for sample in samples {
            let expected = serde_json::to_string(&sample).unwrap();
            let mut ours = String::new();
            write_string(&mut ours, &sample);
            assert_eq!(ours, expected, "{sample:?}");
            let mut bytes = Vec::new();
            write_string(&mut bytes, &sample);
            assert_eq!(bytes, expected.as_bytes(), "{sample:?}");
            assert_eq!(escaped_len(&sample) + 2, ours.len(), "{sample:?}");
        }
    }

    #[test]
    fn decimals_match_display() {
        for value in [0, 7, 10, 99, 1_000, 1_732_550_400, u64::MAX] {
            let mut out = String::new();
            write_u64(&mut out, value);
            assert_eq!(out, value.to_string());
            assert_eq!(decimal_len(value), out.len());
        }
    }
}
