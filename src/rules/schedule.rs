//! Business-hours schedules: when a named schedule is open.
//!
//! A schedule is defined in the rules file as
//!
//! ```toml
//! [schedules.business_hours]
//! timezone = "America/New_York"
//! open = ["mon-fri 09:00-17:00", "sat 10:00-14:00", "fri 22:00-02:00"]
//! closed_on = ["2026-12-25", "2027-01-01"]
//! ```
//!
//! and answers one question: is it open at a given instant? The instant is turned into
//! the zone's local wall-clock time first, so `09:00-17:00` means 09:00 to 17:00 local
//! time on both sides of a daylight-saving change.
//!
//! Rules:
//! - A window is `DAYS HH:MM-HH:MM`. DAYS is a day (`mon` … `sun`, any case), a range
//!   (`mon-fri`; ranges may wrap, `fri-mon` is fri, sat, sun, mon) or a comma list of
//!   both (`mon,wed,fri-sat`). The start is included and the end is not; `24:00` may end
//!   a window.
//! - If the end is earlier than the start the window crosses midnight: `fri 22:00-02:00`
//!   is open Friday from 22:00 and Saturday until 02:00. The part after midnight belongs
//!   to the day the window started, so `fri` above does not open Saturday evening.
//! - A date in `closed_on` closes the whole local calendar day, including the part after
//!   midnight of a window that started the evening before.
//! - Local times that a daylight-saving change skips never happen, so a window lying
//!   wholly inside the skipped hour does not open that day; local times that a change
//!   repeats happen twice, and a window containing them is open both times.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};

/// Minutes in a day; also the value of `24:00`.
const DAY_MINUTES: i16 = 24 * 60;

/// The form of a window, quoted in messages.
const WINDOW_FORM: &str = "expected `DAYS HH:MM-HH:MM`, as in `mon-fri 09:00-17:00`";

/// The accepted day names, Monday first.
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One thing wrong with a schedule's definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", place(field, *index))]
pub struct ScheduleProblem {
    /// The definition's key: `"timezone"`, `"open"` or `"closed_on"`.
    pub field: &'static str,
    /// The position in the `open` or `closed_on` list, when the problem is one entry's.
    pub index: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

fn place(field: &str, index: Option<usize>) -> String {
    match index {
        Some(index) => format!("{field}[{index}]"),
        None => field.to_owned(),
    }
}

impl ScheduleProblem {
    /// Where in the definition: `timezone`, or `open[1]` for one entry of a list.
    pub fn field_place(&self) -> String {
        place(self.field, self.index)
    }

    fn new(field: &'static str, index: Option<usize>, message: String) -> ScheduleProblem {
        ScheduleProblem {
            field,
            index,
            message,
        }
    }
}

/// A checked schedule: a time zone, its opening windows and its closed dates.
#[derive(Debug, Clone)]
pub struct Schedule {
    timezone_name: String,
    zone: TimeZone,
    windows: Vec<Window>,
    closed_on: BTreeSet<Date>,
}

impl Schedule {
    /// Checks a schedule's definition.
    ///
    /// # Errors
    ///
    /// Every problem found, not only the first, in the order `timezone`, `open`,
    /// `closed_on`.
    pub fn parse(
        timezone: &str,
        open: &[String],
        closed_on: &[String],
    ) -> Result<Schedule, Vec<ScheduleProblem>> {
        let mut problems = Vec::new();

        let zone = match parse_zone(timezone) {
            Ok(zone) => Some(zone),
            Err(message) => {
                problems.push(ScheduleProblem::new("timezone", None, message));
                None
            }
        };

        if open.is_empty() {
            problems.push(ScheduleProblem::new(
                "open",
                None,
                "no opening windows: give at least one in the form `DAYS HH:MM-HH:MM`, as in \
                 `mon-fri 09:00-17:00`"
                    .to_owned(),
            ));
        }
        let mut windows = Vec::with_capacity(open.len());
        for (index, text) in open.iter().enumerate() {
            match parse_window(text) {
                Ok(window) => windows.push(window),
                Err(messages) => problems.extend(messages.into_iter().map(|message| {
                    ScheduleProblem::new("open", Some(index), format!("`{text}`: {message}"))
                })),
            }
        }

        let mut dates = BTreeSet::new();
        for (index, text) in closed_on.iter().enumerate() {
            match parse_date(text) {
                Ok(date) => {
                    dates.insert(date);
                }
                Err(message) => problems.push(ScheduleProblem::new(
                    "closed_on",
                    Some(index),
                    format!("`{text}`: {message}"),
                )),
            }
        }

        match zone {
            Some((timezone_name, zone)) if problems.is_empty() => Ok(Schedule {
                timezone_name,
                zone,
                windows,
                closed_on: dates,
            }),
            _ => Err(problems),
        }
    }

    /// Whether the schedule is open at `at`, judged by the zone's local wall-clock time:
    /// closed all day on a closed date, otherwise open when some window holds the local
    /// weekday and time of day.
    #[must_use]
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = self.zone.to_datetime(at);
        if self.closed_on.contains(&local.date()) {
            return false;
        }
        let day = local.weekday();
        // Windows start and end on whole minutes, so the minute alone decides:
        // 16:59:59.999 is before a 17:00 end, 09:00:00 is at a 09:00 start.
        let minute = i16::from(local.hour()) * 60 + i16::from(local.minute());
        self.windows
            .iter()
            .any(|window| window.contains(day, minute))
    }

    /// `at` as the schedule's own clock reads it, e.g. `Tue 2026-12-01 10:00 EST`: what its
    /// windows are judged by, for operators reading `explain`.
    #[must_use]
    pub fn local_time(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.zone.clone())
            .strftime("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The time zone's IANA name in its canonical spelling, e.g. `America/New_York`.
    #[must_use]
    pub fn timezone_name(&self) -> &str {
        &self.timezone_name
    }
}

/// One opening window: days and a time-of-day range in minutes since local midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    days: DaySet,
    /// 0 to 1439.
    start: i16,
    /// 0 to 1440; earlier than `start` when the window crosses midnight.
    end: i16,
}

impl Window {
    fn contains(&self, day: Weekday, minute: i16) -> bool {
        if self.start < self.end {
            self.days.contains(day) && self.start <= minute && minute < self.end
        } else {
            // Across midnight: the evening part on the window's own days, the morning
            // part on the day after each of them.
            (self.days.contains(day) && minute >= self.start)
                || (self.days.contains(day.previous()) && minute < self.end)
        }
    }
}

/// A set of weekdays, one bit each, Monday the lowest.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct DaySet(u8);

impl DaySet {
    fn bit(day: Weekday) -> u8 {
        1 << day.to_monday_zero_offset()
    }

    fn insert(&mut self, day: Weekday) {
        self.0 |= DaySet::bit(day);
    }

    fn contains(self, day: Weekday) -> bool {
        self.0 & DaySet::bit(day) != 0
    }
}

impl fmt::Debug for DaySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = DAY_NAMES
            .iter()
            .enumerate()
            .filter(|(offset, _)| self.0 & (1 << offset) != 0)
            .map(|(_, name)| *name);
        f.debug_set().entries(names).finish()
    }
}

/// Resolves an IANA name against the time-zone database compiled into the binary (never
/// the host's zoneinfo files), returning the canonical name and the zone.
fn parse_zone(name: &str) -> Result<(String, TimeZone), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("no time zone given: use an IANA name such as America/New_York".to_owned());
    }
    let unknown =
        || format!("unknown time zone `{name}`: use an IANA name such as America/New_York");
    let zone = TimeZoneDatabase::bundled()
        .get(name)
        .map_err(|_| unknown())?;
    if zone.is_unknown() {
        // `Etc/Unknown` is a placeholder, not a place.
        return Err(unknown());
    }
    let canonical = zone.iana_name().unwrap_or(name).to_owned();
    Ok((canonical, zone))
}

/// Parses `DAYS HH:MM-HH:MM`. On failure, returns a message for every malformed part.
fn parse_window(text: &str) -> Result<Window, Vec<String>> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let (days, times) = match parts.as_slice() {
        [] => return Err(vec![format!("empty window: {WINDOW_FORM}")]),
        [only] if only.contains(':') => {
            return Err(vec![format!(
                "missing the days before the time range: {WINDOW_FORM}"
            )]);
        }
        [_] => {
            return Err(vec![format!(
                "missing the time range after the days: {WINDOW_FORM}"
            )]);
        }
        [days, times] => (*days, *times),
        _ => {
            return Err(vec![format!(
                "expected the days and the time range separated by one space, with no \
                 spaces inside either, as in `mon-fri 09:00-17:00` (found {} parts)",
                parts.len()
            )]);
        }
    };

    let mut messages = Vec::new();
    let days = parse_days(days).map_err(|found| messages.extend(found));
    let times = parse_time_range(times).map_err(|found| messages.extend(found));
    match (days, times) {
        (Ok(days), Ok((start, end))) => Ok(Window { days, start, end }),
        _ => Err(messages),
    }
}

/// Parses `mon`, `mon-fri`, `fri-mon` or a comma list of those.
fn parse_days(text: &str) -> Result<DaySet, Vec<String>> {
    let mut set = DaySet::default();
    let mut messages = Vec::new();
    for item in text.split(',') {
        if item.is_empty() {
            messages.push(format!(
                "empty entry in the day list `{text}`: expected days or day ranges \
                 separated by commas, as in `mon,wed,fri-sat`"
            ));
            continue;
        }
        let ends: Vec<&str> = item.split('-').collect();
        match ends.as_slice() {
            [day] => match parse_day(day) {
                Ok(day) => set.insert(day),
                Err(message) => messages.push(message),
            },
            [first, last] if !first.is_empty() && !last.is_empty() => {
                match (parse_day(first), parse_day(last)) {
                    (Ok(first), Ok(last)) if first == last => messages.push(format!(
                        "`{item}` starts and ends on the same day: write `{}` for that \
                         day alone, or a range such as `mon-sun` for the whole week",
                        DAY_NAMES[day_offset(first)]
                    )),
                    (Ok(first), Ok(last)) => {
                        let mut day = first;
                        set.insert(day);
                        while day != last {
                            day = day.next();
                            set.insert(day);
                        }
                    }
                    (first, last) => {
                        messages.extend(first.err());
                        messages.extend(last.err());
                    }
                }
            }
            _ => messages.push(format!(
                "`{item}` is not a day range: expected two days joined by `-`, as in `mon-fri`"
            )),
        }
    }
    if messages.is_empty() {
        Ok(set)
    } else {
        Err(messages)
    }
}

fn parse_day(text: &str) -> Result<Weekday, String> {
    let day = match text.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => {
            return Err(format!(
                "`{text}` is not a day: expected mon, tue, wed, thu, fri, sat or sun"
            ));
        }
    };
    Ok(day)
}

fn day_offset(day: Weekday) -> usize {
    match day {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
        Weekday::Saturday => 5,
        Weekday::Sunday => 6,
    }
}

/// Parses `HH:MM-HH:MM` into start and end minutes.
fn parse_time_range(text: &str) -> Result<(i16, i16), Vec<String>> {
    let range_form = "expected HH:MM-HH:MM, as in `09:00-17:00`";
    let (start, end) = match text.split('-').collect::<Vec<_>>().as_slice() {
        [start, end] => (*start, *end),
        _ => return Err(vec![format!("`{text}` is not a time range: {range_form}")]),
    };

    let mut messages = Vec::new();
    let start = if start.is_empty() {
        messages.push(format!("missing the start time: {range_form}"));
        None
    } else {
        match parse_time(start) {
            Ok(DAY_MINUTES) => {
                messages
                    .push("a window cannot start at 24:00: use 00:00 on the next day".to_owned());
                None
            }
            Ok(minutes) => Some(minutes),
            Err(message) => {
                messages.push(message);
                None
            }
        }
    };
    let end = if end.is_empty() {
        messages.push(format!("missing the end time: {range_form}"));
        None
    } else {
        match parse_time(end) {
            Ok(minutes) => Some(minutes),
            Err(message) => {
                messages.push(message);
                None
            }
        }
    };

    match (start, end) {
        (Some(start), Some(end)) if start == end => Err(vec![format!(
            "`{text}` is empty: the start and the end are the same time"
        )]),
        (Some(start), Some(end)) => Ok((start, end)),
        _ => Err(messages),
    }
}

/// Parses `HH:MM`, 00:00 to 24:00, into minutes since midnight.
fn parse_time(text: &str) -> Result<i16, String> {
    let not_a_time = || format!("{text} is not a time (HH:MM, 00:00 to 24:00)");
    let bytes = text.as_bytes();
    let [h1, h2, b':', m1, m2] = bytes else {
        return Err(not_a_time());
    };
    let digits = [*h1, *h2, *m1, *m2];
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(not_a_time());
    }
    let [h1, h2, m1, m2] = digits.map(|digit| i16::from(digit - b'0'));
    let (hour, minute) = (h1 * 10 + h2, m1 * 10 + m2);
    if minute > 59 || hour > 24 || (hour == 24 && minute != 0) {
        return Err(not_a_time());
    }
    Ok(hour * 60 + minute)
}

/// Parses `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<Date, String> {
    let shape = "not a date: expected YYYY-MM-DD, as in `2026-12-25`";
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 10
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !well_formed {
        return Err(shape.to_owned());
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0i16, |value, digit| value * 10 + i16::from(digit - b'0'))
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    if !(1..=12).contains(&month) {
        return Err(format!("not a date: month {month:02} is not 01 to 12"));
    }
    let month = i8::try_from(month).map_err(|_| shape.to_owned())?;
    let first = Date::new(year, month, 1).map_err(|_| shape.to_owned())?;
    let last = first.days_in_month();
    if day < 1 || day > i16::from(last) {
        return Err(format!(
            "not a date: day {day:02} is not 01 to {last} ({year:04}-{month:02} has {last} days)"
        ));
    }
    let day = i8::try_from(day).map_err(|_| shape.to_owned())?;
    Date::new(year, month, day).map_err(|_| shape.to_owned())
}

#[cfg(test)]
mod tests;
