//! Object keys as Firehose names them: `Prefix` and `ErrorOutputPrefix` with their `!{…}`
//! expressions, AWS's rules for them, and the key layout
//! `<evaluated prefix><stream>-<version>-<YYYY-MM-DD-HH-MM-SS>-<uuid>`.
//!
//! Invariant: a [`PrefixPair`] holds only prefixes Firehose accepts, and evaluating one is a
//! pure function of the timestamp and the (derived) random string, so a retried write keeps
//! its key.
//!
//! Rules kept (Firehose's "custom prefixes" page): expressions are `!{timestamp:<Java
//! DateTimeFormatter pattern>}`, `!{firehose:random-string}` and
//! `!{firehose:error-output-type}`; `!{` appears only in expressions; error-output-type is only
//! allowed in ErrorOutputPrefix, which, when it has expressions, must contain it; a Prefix with
//! expressions requires an ErrorOutputPrefix; a Prefix without a timestamp expression gets
//! `!{timestamp:yyyy/MM/dd/HH/}` appended; neither may evaluate to over 512 characters.

use crate::time::Millis;

/// Longest evaluated prefix.
pub const MAX_EVALUATED: usize = 512;
/// What `!{firehose:error-output-type}` evaluates to for a transformation failure.
pub const PROCESSING_FAILED: &str = "processing-failed";

/// One piece of a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Timestamp(Vec<Field>),
    RandomString,
    ErrorOutputType,
}

/// One piece of a timestamp pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Literal(String),
    /// A pattern letter and how many times it repeats.
    Letter(char, usize),
}

/// A parsed prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prefix {
    parts: Vec<Part>,
}

/// Prefix and ErrorOutputPrefix as Firehose evaluates them (defaults applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixPair {
    /// For delivered (and backup) objects.
    pub prefix: Prefix,
    /// For processing-failed objects.
    pub error_prefix: Prefix,
}

/// The calendar fields of a UTC instant.
#[derive(Debug, Clone, Copy)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    day_of_year: u32,
    weekday: u32,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
}

fn civil(ms: Millis) -> Civil {
    let text = crate::time::iso8601_millis(ms);
    let n = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(0);
    let days = ms / 86_400_000;
    let year = i64::from(n(0..4));
    let jan1 =
        crate::time::parse_iso8601_millis(&format!("{year:04}-01-01T00:00:00Z")).unwrap_or(0);
    Civil {
        year,
        month: n(5..7),
        day: n(8..10),
        day_of_year: ((ms - jan1) / 86_400_000) as u32 + 1,
        // 1970-01-01 was a Thursday; ISO: Monday = 1.
        weekday: ((days + 3) % 7) as u32 + 1,
        hour: n(11..13),
        minute: n(14..16),
        second: n(17..19),
        millis: n(20..23),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The pattern letters supported, as Java's DateTimeFormatter reads them.
const LETTERS: &str = "yuMLdDHhkKmsSEa";

fn parse_pattern(pattern: &str) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            let mut literal = String::new();
            if chars.peek() == Some(&'\'') {
                chars.next();
                fields.push(Field::Literal("'".into()));
                continue;
            }
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "Pattern ends with an incomplete string literal: {pattern}"
                        ));
                    }
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        literal.push('\'');
                    }
                    Some('\'') => break,
                    Some(other) => literal.push(other),
                }
            }
            fields.push(Field::Literal(literal));
        } else if c.is_ascii_alphabetic() {
            if !LETTERS.contains(c) {
                return Err(format!("Unknown pattern letter: {c}"));
            }
            let mut count = 1;
            while chars.peek() == Some(&c) {
                chars.next();
                count += 1;
            }
            fields.push(Field::Letter(c, count));
        } else if matches!(c, '[' | ']' | '{' | '}' | '#') {
            return Err(format!("Pattern includes reserved character: '{c}'"));
        } else {
            fields.push(Field::Literal(c.to_string()));
        }
    }
    Ok(fields)
}

fn format_field(out: &mut String, letter: char, count: usize, t: &Civil) {
    let number = |out: &mut String, value: i64| out.push_str(&format!("{value:0count$}"));
    match letter {
        'y' | 'u' if count == 2 => out.push_str(&format!("{:02}", t.year % 100)),
        'y' | 'u' => number(out, t.year),
        'M' | 'L' if count >= 4 => out.push_str(MONTHS[t.month as usize - 1]),
        'M' | 'L' if count == 3 => out.push_str(&MONTHS[t.month as usize - 1][..3]),
        'M' | 'L' => number(out, t.month.into()),
        'd' => number(out, t.day.into()),
        'D' => number(out, t.day_of_year.into()),
        'H' => number(out, t.hour.into()),
        'k' => number(out, if t.hour == 0 { 24 } else { t.hour.into() }),
        'h' => number(
            out,
            if t.hour.is_multiple_of(12) {
                12
            } else {
                (t.hour % 12).into()
            },
        ),
        'K' => number(out, (t.hour % 12).into()),
        'm' => number(out, t.minute.into()),
        's' => number(out, t.second.into()),
        'S' => {
            let digits = format!("{:03}", t.millis);
            let mut fraction: String = digits.chars().take(count).collect();
            while fraction.len() < count {
                fraction.push('0');
            }
            out.push_str(&fraction);
        }
        'E' if count >= 4 => out.push_str(DAYS[t.weekday as usize - 1]),
        'E' => out.push_str(&DAYS[t.weekday as usize - 1][..3]),
        'a' => out.push_str(if t.hour < 12 { "AM" } else { "PM" }),
        _ => {}
    }
}

impl Prefix {
    /// Parses `text`'s expressions (without applying the rules between the two prefixes).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("!{") {
            if at > 0 {
                parts.push(Part::Literal(rest[..at].to_owned()));
            }
            let end = rest[at..]
                .find('}')
                .map(|e| at + e)
                .ok_or_else(|| format!("The expression in {text} is not closed with '}}'."))?;
            let expression = &rest[at + 2..end];
            let (namespace, value) = expression
                .split_once(':')
                .ok_or_else(|| format!("The expression !{{{expression}}} has no namespace."))?;
            parts.push(match (namespace, value) {
                ("timestamp", pattern) => Part::Timestamp(parse_pattern(pattern)?),
                ("firehose", "random-string") => Part::RandomString,
                ("firehose", "error-output-type") => Part::ErrorOutputType,
                ("firehose", other) => {
                    return Err(format!("The firehose namespace has no value {other}."));
                }
                ("partitionKeyFromQuery" | "partitionKeyFromLambda", _) => {
                    return Err(format!(
                        "The {namespace} namespace needs dynamic partitioning, which Riffle does \
                         not support."
                    ));
                }
                (other, _) => return Err(format!("Unknown expression namespace {other}.")),
            });
            rest = &rest[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    fn has_expressions(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }

    fn has(&self, wanted: fn(&Part) -> bool) -> bool {
        self.parts.iter().any(wanted)
    }

    fn with_default_timestamp(mut self) -> Self {
        if !self.has(|p| matches!(p, Part::Timestamp(_))) {
            self.parts.push(Part::Timestamp(
                parse_pattern("yyyy/MM/dd/HH/").unwrap_or_default(),
            ));
        }
        self
    }

    /// The prefix at `at` (the oldest record's arrival), with `random` (11 characters) for
    /// `!{firehose:random-string}`.
    pub fn evaluate(&self, at: Millis, random: &str) -> String {
        let t = civil(at);
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::RandomString => out.push_str(random),
                Part::ErrorOutputType => out.push_str(PROCESSING_FAILED),
                Part::Timestamp(fields) => {
                    for field in fields {
                        match field {
                            Field::Literal(text) => out.push_str(text),
                            Field::Letter(c, n) => format_field(&mut out, *c, *n, &t),
                        }
                    }
                }
            }
        }
        out
    }
}

/// Applies Firehose's rules to a destination's `Prefix` and `ErrorOutputPrefix`.
pub fn validate(prefix: Option<&str>, error_prefix: Option<&str>) -> Result<PrefixPair, String> {
    let prefix_text = prefix.unwrap_or_default();
    let parsed = Prefix::parse(prefix_text)?;
    if parsed.has(|p| matches!(p, Part::ErrorOutputType)) {
        return Err(
            "The !{firehose:error-output-type} expression is only allowed in ErrorOutputPrefix."
                .into(),
        );
    }
    let error = match error_prefix.filter(|e| !e.is_empty()) {
        Some(text) => {
            let error = Prefix::parse(text)?;
            if error.has_expressions() && !error.has(|p| matches!(p, Part::ErrorOutputType)) {
                return Err(
                    "ErrorOutputPrefix must contain !{firehose:error-output-type} when \
                            it contains expressions."
                        .into(),
                );
            }
            error
        }
        None if parsed.has_expressions() => {
            return Err("ErrorOutputPrefix is required when Prefix contains expressions.".into());
        }
        // `<prefix>processing-failed/yyyy/MM/dd/HH/`.
        None => Prefix::parse(&format!(
            "{prefix_text}!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd/HH/}}"
        ))?,
    };
    let pair = PrefixPair {
        prefix: parsed.with_default_timestamp(),
        error_prefix: error,
    };
    // September and Wednesday are the longest names a pattern can print.
    let longest = 1_347_408_000_000; // 2012-09-12T00:00:00Z, a Wednesday
    for (name, p) in [
        ("Prefix", &pair.prefix),
        ("ErrorOutputPrefix", &pair.error_prefix),
    ] {
        if p.evaluate(longest, "aaaaaaaaaaa").len() > MAX_EVALUATED {
            return Err(format!(
                "{name} is longer than {MAX_EVALUATED} characters when evaluated."
            ));
        }
    }
    Ok(pair)
}

/// The name Firehose gives an object, after its prefix:
/// `<stream>-<version>-<YYYY-MM-DD-HH-MM-SS>-<uuid>`, dated `at` (UTC).
pub fn object_name(stream: &str, version: u64, at: Millis, uuid: &str) -> String {
    let t = crate::time::iso8601_millis(at);
    let stamp = format!(
        "{}-{}-{}-{}-{}-{}",
        &t[0..4],
        &t[5..7],
        &t[8..10],
        &t[11..13],
        &t[14..16],
        &t[17..19]
    );
    format!("{stream}-{version}-{stamp}-{uuid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-11-25T16:05:09.042Z, a Monday, day 330.
    const AT: Millis = 1_732_550_709_042;

    #[test]
    fn defaults_follow_aws_layout() {
        let pair = validate(None, None).unwrap();
        assert_eq!(pair.prefix.evaluate(AT, "r"), "2024/11/25/16/");
        assert_eq!(
            pair.error_prefix.evaluate(AT, "r"),
            "processing-failed/2024/11/25/16/"
        );
        let pair = validate(Some("logs/"), None).unwrap();
        assert_eq!(pair.prefix.evaluate(AT, "r"), "logs/2024/11/25/16/");
        assert_eq!(
            pair.error_prefix.evaluate(AT, "r"),
            "logs/processing-failed/2024/11/25/16/"
        );
        assert_eq!(
            object_name("logs", 3, AT, "u-u"),
            "logs-3-2024-11-25-16-05-09-u-u"
        );
    }

    #[test]
    fn expressions_evaluate_as_java_formats() {
        let pair = validate(
            Some("y=!{timestamp:yyyy}/m=!{timestamp:MM}/d=!{timestamp:dd}/!{firehose:random-string}/"),
            Some("err/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd'T'HH}/"),
        )
        .unwrap();
        assert_eq!(
            pair.prefix.evaluate(AT, "abcdefghijk"),
            "y=2024/m=11/d=25/abcdefghijk/"
        );
        assert_eq!(
            pair.error_prefix.evaluate(AT, "x"),
            "err/processing-failed/2024-11-25T16/"
        );
        let p = Prefix::parse("!{timestamp:yy MMM MMMM D E EEEE h a mm:ss.SSS ''}").unwrap();
        assert_eq!(
            p.evaluate(AT, ""),
            "24 Nov November 330 Mon Monday 4 PM 05:09.042 '"
        );
    }

    #[test]
    fn the_rules_refuse_what_firehose_refuses() {
        for (prefix, error) in [
            (
                Some("a/!{firehose:error-output-type}/"),
                Some("e/!{firehose:error-output-type}"),
            ),
            (Some("a/!{timestamp:yyyy}/"), None),
            (Some("a/"), Some("e/!{timestamp:yyyy}/")),
            (Some("a/!{timestamp:yyyy"), Some("e/")),
            (
                Some("a/!{timestamp:qq}/"),
                Some("e/!{firehose:error-output-type}"),
            ),
            (
                Some("a/!{timestamp:'open}/"),
                Some("e/!{firehose:error-output-type}"),
            ),
            (
                Some("a/!{firehose:other}/"),
                Some("e/!{firehose:error-output-type}"),
            ),
            (
                Some("!{partitionKeyFromQuery:id}/"),
                Some("e/!{firehose:error-output-type}"),
            ),
            (Some("!{nope:id}/"), Some("e/!{firehose:error-output-type}")),
            (Some(&"a".repeat(600)), None),
        ] {
            assert!(validate(prefix, error).is_err(), "{prefix:?} {error:?}");
        }
        // A literal error prefix is used as written (no timestamp appended).
        let pair = validate(Some("a/!{timestamp:yyyy}/"), Some("failed/")).unwrap();
        assert_eq!(pair.error_prefix.evaluate(AT, "r"), "failed/");
        // A random string alone still gets the default timestamp.
        let pair = validate(
            Some("!{firehose:random-string}/"),
            Some("e/!{firehose:error-output-type}/"),
        )
        .unwrap();
        assert_eq!(pair.prefix.evaluate(AT, "r"), "r/2024/11/25/16/");
    }
}
