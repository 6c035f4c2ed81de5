//! Milliseconds since the Unix epoch, and the ISO-8601 strings AWS writes for them.

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// `2025-11-25T16:35:01.512Z`: UTC, millisecond precision, as on-failure records carry.
pub fn iso8601_millis(ms: Millis) -> String {
    let (date, seconds_of_day) = (ms / 86_400_000, (ms % 86_400_000) / 1000);
    let (year, month, day) = civil_from_days(date as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60,
        ms % 1000
    )
}

/// `2025-11-25T16:34:00Z`: UTC, whole seconds, as tumbling window bounds are written.
pub fn iso8601_seconds(ms: Millis) -> String {
    let full = iso8601_millis(ms);
    format!("{}Z", &full[..19])
}

/// Reads back what [`iso8601_millis`] (or [`iso8601_seconds`]) wrote: `YYYY-MM-DDTHH:MM:SS.mmmZ`
/// or `YYYY-MM-DDTHH:MM:SSZ`, UTC; `None` for anything else or a time before 1970.
pub fn parse_iso8601_millis(text: &str) -> Option<Millis> {
    let bytes = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    let fraction = match bytes.len() {
        24 if bytes[19] == b'.' && bytes[23] == b'Z' => Some(20..23),
        20 if bytes[19] == b'Z' => None,
        _ => return None,
    };
    if separators.iter().any(|&(at, b)| bytes[at] != b) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let millis = fraction.map_or(Some(0), number)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    let ms = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis;
    Millis::try_from(ms).ok()
}

/// (year, month, day) in the proleptic Gregorian calendar → days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // The inverse of `civil_from_days`, with the same March-based eras.
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_index + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm, shifted so the era starts on March 1st.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_aws_on_failure_records() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_millis(1_764_088_501_512),
            "2025-11-25T16:35:01.512Z"
        );
        assert_eq!(iso8601_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_seconds(1_764_088_440_000), "2025-11-25T16:34:00Z");
    }

    #[test]
    fn parsing_reads_back_what_formatting_wrote() {
        for ms in [0, 951_782_400_000, 1_764_088_501_512, 4_102_444_799_999] {
            assert_eq!(parse_iso8601_millis(&iso8601_millis(ms)), Some(ms));
            assert_eq!(
                parse_iso8601_millis(&iso8601_seconds(ms)),
                Some(ms - ms % 1000)
            );
        }
        for bad in [
            "",
            "2025-11-25 16:35:01.512Z",
            "2025-13-25T16:35:01.512Z",
            "2025-11-25T16:35:01.51xZ",
            "2025-11-25T16:35:01.512",
            "1969-12-31T23:59:59.999Z",
        ] {
            assert_eq!(parse_iso8601_millis(bad), None, "{bad}");
        }
    }
}
