//! Calendar formatting of Unix timestamps (UTC), without a clock and without a date crate.
//!
//! Only what sealstrap prints: kubeseal's `January 2, 2006` form for expiry messages and an
//! RFC 3339 form for `cert inspect`.

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

/// A UTC date and time broken into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Breaks a Unix timestamp into a UTC date (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn civil(unix: i64) -> Civil {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs % 3600 / 60) as u32,
        second: (secs % 60) as u32,
    }
}

/// `November 28, 2026`: the form kubeseal uses in its expired-certificate message.
pub fn long_date(unix: i64) -> String {
    let c = civil(unix);
    format!("{} {}, {}", MONTHS[(c.month - 1) as usize], c.day, c.year)
}

/// `2026-11-28T23:17:59Z`.
pub fn rfc3339(unix: i64) -> String {
    let c = civil(unix);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_907_879), "2026-11-28T23:17:59Z");
        assert_eq!(long_date(1_795_907_879), "November 28, 2026");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(long_date(2_114_380_800), "January 1, 2037");
    }
}
