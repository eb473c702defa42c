use super::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn valid(timezone: &str, open: &[&str], closed_on: &[&str]) -> Schedule {
    match Schedule::parse(timezone, &strings(open), &strings(closed_on)) {
        Ok(schedule) => schedule,
        Err(problems) => panic!("expected a valid schedule, got {problems:?}"),
    }
}

fn utc(open: &[&str]) -> Schedule {
    valid("UTC", open, &[])
}

fn at(instant: &str) -> Timestamp {
    instant.parse().unwrap()
}

fn open_at(schedule: &Schedule, instant: &str) -> bool {
    schedule.is_open(at(instant))
}

/// The displayed problems of a definition expected to be invalid.
fn problems(timezone: &str, open: &[&str], closed_on: &[&str]) -> Vec<String> {
    match Schedule::parse(timezone, &strings(open), &strings(closed_on)) {
        Ok(schedule) => panic!("expected problems, got {schedule:?}"),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

fn window_problems(window: &str) -> Vec<String> {
    problems("UTC", &[window], &[])
}

fn date_problems(date: &str) -> Vec<String> {
    problems("UTC", &["mon 09:00-17:00"], &[date])
}

// The week of Monday 2026-01-05 to Sunday 2026-01-11 serves the plain tests; in UTC
// local time is the instant's own time.

#[test]
fn a_time_inside_a_window_is_open() {
    let schedule = utc(&["mon-fri 09:00-17:00"]);
    assert!(open_at(&schedule, "2026-01-07T12:00:00Z"));
}

#[test]
fn a_time_outside_every_window_is_closed() {
    let schedule = utc(&["mon-fri 09:00-17:00"]);
    assert!(!open_at(&schedule, "2026-01-07T08:00:00Z"));
    assert!(!open_at(&schedule, "2026-01-07T18:00:00Z"));
    assert!(!open_at(&schedule, "2026-01-10T12:00:00Z"), "saturday");
}

#[test]
fn a_window_is_open_from_its_start_minute() {
    let schedule = utc(&["mon-fri 09:00-17:00"]);
    assert!(!open_at(&schedule, "2026-01-07T08:59:59.999Z"));
    assert!(open_at(&schedule, "2026-01-07T09:00:00Z"));
}

#[test]
fn a_window_is_closed_from_its_end_minute() {
    let schedule = utc(&["mon-fri 09:00-17:00"]);
    assert!(open_at(&schedule, "2026-01-07T16:59:59.999Z"));
    assert!(!open_at(&schedule, "2026-01-07T17:00:00Z"));
}

#[test]
fn a_single_day_window_is_open_on_that_day_only() {
    let schedule = utc(&["wed 09:00-17:00"]);
    assert!(open_at(&schedule, "2026-01-07T10:00:00Z"), "wednesday");
    assert!(!open_at(&schedule, "2026-01-06T10:00:00Z"), "tuesday");
    assert!(!open_at(&schedule, "2026-01-08T10:00:00Z"), "thursday");
}

#[test]
fn any_of_several_windows_opens_the_schedule() {
    let schedule = utc(&[
        "mon-fri 09:00-12:00",
        "mon-fri 13:00-17:00",
        "sat 10:00-14:00",
    ]);
    assert!(open_at(&schedule, "2026-01-07T11:00:00Z"));
    assert!(!open_at(&schedule, "2026-01-07T12:30:00Z"), "lunch");
    assert!(open_at(&schedule, "2026-01-07T13:00:00Z"));
    assert!(open_at(&schedule, "2026-01-10T10:00:00Z"), "saturday");
    assert!(!open_at(&schedule, "2026-01-10T14:00:00Z"), "saturday end");
    assert!(!open_at(&schedule, "2026-01-11T11:00:00Z"), "sunday");
}

#[test]
fn a_day_range_covers_both_ends_and_every_day_between() {
    let schedule = utc(&["tue-thu 09:00-17:00"]);
    assert!(!open_at(&schedule, "2026-01-05T10:00:00Z"), "monday");
    assert!(open_at(&schedule, "2026-01-06T10:00:00Z"), "tuesday");
    assert!(open_at(&schedule, "2026-01-07T10:00:00Z"), "wednesday");
    assert!(open_at(&schedule, "2026-01-08T10:00:00Z"), "thursday");
    assert!(!open_at(&schedule, "2026-01-09T10:00:00Z"), "friday");
}

#[test]
fn a_day_range_that_wraps_past_sunday_covers_the_weekend() {
    let schedule = utc(&["fri-mon 09:00-17:00"]);
    assert!(open_at(&schedule, "2026-01-09T10:00:00Z"), "friday");
    assert!(open_at(&schedule, "2026-01-10T10:00:00Z"), "saturday");
    assert!(open_at(&schedule, "2026-01-11T10:00:00Z"), "sunday");
    assert!(open_at(&schedule, "2026-01-12T10:00:00Z"), "monday");
    assert!(!open_at(&schedule, "2026-01-06T10:00:00Z"), "tuesday");
    assert!(!open_at(&schedule, "2026-01-07T10:00:00Z"), "wednesday");
    assert!(!open_at(&schedule, "2026-01-08T10:00:00Z"), "thursday");
}

#[test]
fn a_comma_list_mixes_single_days_and_ranges() {
    let schedule = utc(&["mon,wed,fri-sat 09:00-17:00"]);
    let expected = [
        ("2026-01-05T10:00:00Z", true),  // monday
        ("2026-01-06T10:00:00Z", false), // tuesday
        ("2026-01-07T10:00:00Z", true),  // wednesday
        ("2026-01-08T10:00:00Z", false), // thursday
        ("2026-01-09T10:00:00Z", true),  // friday
        ("2026-01-10T10:00:00Z", true),  // saturday
        ("2026-01-11T10:00:00Z", false), // sunday
    ];
    for (instant, open) in expected {
        assert_eq!(open_at(&schedule, instant), open, "{instant}");
    }
}

#[test]
fn day_names_ignore_case() {
    let schedule = utc(&["Mon-FRI 09:00-17:00"]);
    assert!(open_at(&schedule, "2026-01-05T10:00:00Z"));
    assert!(open_at(&schedule, "2026-01-09T10:00:00Z"));
}

#[test]
fn surrounding_and_repeated_spaces_are_accepted() {
    let schedule = utc(&["  mon   09:00-17:00 "]);
    assert!(open_at(&schedule, "2026-01-05T10:00:00Z"));
}

#[test]
fn a_window_across_midnight_is_open_in_the_evening_of_its_day() {
    let schedule = utc(&["fri 22:00-02:00"]);
    assert!(!open_at(&schedule, "2026-01-09T21:59:00Z"));
    assert!(open_at(&schedule, "2026-01-09T22:00:00Z"));
    assert!(open_at(&schedule, "2026-01-09T23:59:59Z"));
}

#[test]
fn a_window_across_midnight_is_open_until_its_end_on_the_next_day() {
    let schedule = utc(&["fri 22:00-02:00"]);
    assert!(
        open_at(&schedule, "2026-01-10T00:00:00Z"),
        "saturday midnight"
    );
    assert!(open_at(&schedule, "2026-01-10T01:59:59Z"));
    assert!(!open_at(&schedule, "2026-01-10T02:00:00Z"));
}

#[test]
fn a_window_across_midnight_does_not_otherwise_open_the_next_day() {
    let schedule = utc(&["fri 22:00-02:00"]);
    assert!(
        !open_at(&schedule, "2026-01-10T22:30:00Z"),
        "saturday evening"
    );
    assert!(!open_at(&schedule, "2026-01-10T12:00:00Z"), "saturday noon");
    assert!(
        !open_at(&schedule, "2026-01-11T01:00:00Z"),
        "sunday small hours"
    );
    assert!(
        !open_at(&schedule, "2026-01-09T01:00:00Z"),
        "friday small hours"
    );
}

#[test]
fn a_window_across_midnight_on_sunday_continues_into_monday() {
    let schedule = utc(&["sun 23:00-01:00"]);
    assert!(open_at(&schedule, "2026-01-11T23:30:00Z"), "sunday");
    assert!(open_at(&schedule, "2026-01-12T00:30:00Z"), "monday");
    assert!(
        !open_at(&schedule, "2026-01-05T23:30:00Z"),
        "monday evening"
    );
}

#[test]
fn a_window_ending_at_24_00_is_open_through_the_last_minute_of_the_day() {
    let schedule = utc(&["fri 18:00-24:00"]);
    assert!(open_at(&schedule, "2026-01-09T18:00:00Z"));
    assert!(open_at(&schedule, "2026-01-09T23:59:59.999Z"));
}

#[test]
fn a_window_ending_at_24_00_does_not_spill_into_the_next_day() {
    let schedule = utc(&["fri 18:00-24:00"]);
    assert!(!open_at(&schedule, "2026-01-10T00:00:00Z"));
    assert!(!open_at(&schedule, "2026-01-10T18:30:00Z"));
}

#[test]
fn a_window_from_00_00_to_24_00_is_open_all_day() {
    let schedule = utc(&["sat 00:00-24:00"]);
    assert!(!open_at(&schedule, "2026-01-09T23:59:59Z"));
    assert!(open_at(&schedule, "2026-01-10T00:00:00Z"));
    assert!(open_at(&schedule, "2026-01-10T23:59:59Z"));
    assert!(!open_at(&schedule, "2026-01-11T00:00:00Z"));
}

#[test]
fn a_closed_date_closes_the_whole_local_day() {
    // 2026-12-25 is a Friday.
    let schedule = valid("UTC", &["mon-sun 00:00-24:00"], &["2026-12-25"]);
    assert!(open_at(&schedule, "2026-12-24T23:59:59Z"));
    assert!(!open_at(&schedule, "2026-12-25T00:00:00Z"));
    assert!(!open_at(&schedule, "2026-12-25T12:00:00Z"));
    assert!(!open_at(&schedule, "2026-12-25T23:59:59Z"));
}

#[test]
fn the_day_after_a_closed_date_is_open_again() {
    let schedule = valid("UTC", &["mon-sun 09:00-17:00"], &["2026-12-25"]);
    assert!(open_at(&schedule, "2026-12-26T09:00:00Z"));
    assert!(
        open_at(&schedule, "2026-12-24T16:59:00Z"),
        "and the day before"
    );
}

#[test]
fn a_closed_date_closes_the_morning_part_of_the_previous_evenings_window() {
    // Thursday 2026-12-24 22:00 to Friday 02:00; Friday the 25th is closed.
    let schedule = valid("UTC", &["thu 22:00-02:00"], &["2026-12-25"]);
    assert!(open_at(&schedule, "2026-12-24T23:00:00Z"));
    assert!(!open_at(&schedule, "2026-12-25T01:00:00Z"));
}

#[test]
fn a_window_started_on_a_closed_date_opens_after_midnight_on_an_open_date() {
    // Friday the 25th is closed, so its evening is; Saturday's small hours are not.
    let schedule = valid("UTC", &["fri 22:00-02:00"], &["2026-12-25"]);
    assert!(!open_at(&schedule, "2026-12-25T23:00:00Z"));
    assert!(open_at(&schedule, "2026-12-26T01:00:00Z"));
}

#[test]
fn closed_dates_follow_the_local_calendar_not_utc() {
    // New York is UTC-5 in December: local 2026-12-25 runs from 05:00Z on the 25th
    // to 05:00Z on the 26th.
    let schedule = valid(
        "America/New_York",
        &["mon-sun 00:00-24:00"],
        &["2026-12-25"],
    );
    assert!(open_at(&schedule, "2026-12-25T04:59:59Z"), "24th 23:59:59");
    assert!(!open_at(&schedule, "2026-12-25T05:00:00Z"), "25th 00:00");
    assert!(!open_at(&schedule, "2026-12-26T04:59:59Z"), "25th 23:59:59");
    assert!(open_at(&schedule, "2026-12-26T05:00:00Z"), "26th 00:00");
}

#[test]
fn several_closed_dates_each_close_their_day() {
    let schedule = valid(
        "UTC",
        &["mon-sun 09:00-17:00"],
        &["2026-12-25", "2027-01-01"],
    );
    assert!(!open_at(&schedule, "2026-12-25T10:00:00Z"));
    assert!(!open_at(&schedule, "2027-01-01T10:00:00Z"));
    assert!(open_at(&schedule, "2026-12-31T10:00:00Z"));
}

#[test]
fn a_leap_day_is_a_valid_closed_date() {
    let schedule = valid("UTC", &["mon-sun 09:00-17:00"], &["2028-02-29"]);
    assert!(!open_at(&schedule, "2028-02-29T10:00:00Z"));
    assert!(open_at(&schedule, "2028-03-01T10:00:00Z"));
}

#[test]
fn local_time_in_the_zone_decides_not_utc() {
    // Berlin is UTC+1 in January: 08:30Z is 09:30 local.
    let schedule = valid("Europe/Berlin", &["mon-fri 09:00-17:00"], &[]);
    assert!(open_at(&schedule, "2026-01-07T08:30:00Z"));
    assert!(!open_at(&schedule, "2026-01-07T07:59:00Z"), "08:59 local");
    assert!(!open_at(&schedule, "2026-01-07T16:00:00Z"), "17:00 local");
}

#[test]
fn the_weekday_is_the_local_one() {
    // Monday 2026-01-05 03:00Z is still Sunday 22:00 in New York (UTC-5).
    let schedule = valid("America/New_York", &["sun 20:00-23:00"], &[]);
    assert!(open_at(&schedule, "2026-01-05T03:00:00Z"));
}

#[test]
fn the_time_zone_name_is_given_in_its_canonical_spelling() {
    let schedule = valid("america/new_york", &["mon 09:00-17:00"], &[]);
    assert_eq!(schedule.timezone_name(), "America/New_York");
    let schedule = valid("Europe/Berlin", &["mon 09:00-17:00"], &[]);
    assert_eq!(schedule.timezone_name(), "Europe/Berlin");
}

#[test]
fn utc_is_a_time_zone() {
    assert_eq!(utc(&["mon 09:00-17:00"]).timezone_name(), "UTC");
}

#[test]
fn an_unknown_time_zone_is_a_problem() {
    assert_eq!(
        problems("Mars/Base", &["mon 09:00-17:00"], &[]),
        ["timezone: unknown time zone `Mars/Base`: use an IANA name such as America/New_York"]
    );
}

#[test]
fn the_unknown_placeholder_zone_is_a_problem() {
    assert_eq!(
        problems("Etc/Unknown", &["mon 09:00-17:00"], &[]),
        ["timezone: unknown time zone `Etc/Unknown`: use an IANA name such as America/New_York"]
    );
}

#[test]
fn an_empty_time_zone_is_a_problem() {
    assert_eq!(
        problems("", &["mon 09:00-17:00"], &[]),
        ["timezone: no time zone given: use an IANA name such as America/New_York"]
    );
}

#[test]
fn an_empty_open_list_is_a_problem() {
    assert_eq!(
        problems("UTC", &[], &[]),
        [
            "open: no opening windows: give at least one in the form `DAYS HH:MM-HH:MM`, as in `mon-fri 09:00-17:00`"
        ]
    );
}

#[test]
fn a_problem_carries_its_field_and_index() {
    let found = Schedule::parse(
        "UTC",
        &strings(&["mon 09:00-17:00", "fri 25:00-02:00"]),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        found,
        [ScheduleProblem {
            field: "open",
            index: Some(1),
            message: "`fri 25:00-02:00`: 25:00 is not a time (HH:MM, 00:00 to 24:00)".to_owned(),
        }]
    );
}

#[test]
fn an_hour_past_24_is_a_problem() {
    assert_eq!(
        window_problems("fri 25:00-02:00"),
        ["open[0]: `fri 25:00-02:00`: 25:00 is not a time (HH:MM, 00:00 to 24:00)"]
    );
}

#[test]
fn minutes_past_59_are_a_problem() {
    assert_eq!(
        window_problems("mon 09:60-17:00"),
        ["open[0]: `mon 09:60-17:00`: 09:60 is not a time (HH:MM, 00:00 to 24:00)"]
    );
}

#[test]
fn only_24_00_itself_is_allowed_past_23_59() {
    assert_eq!(
        window_problems("mon 09:00-24:30"),
        ["open[0]: `mon 09:00-24:30`: 24:30 is not a time (HH:MM, 00:00 to 24:00)"]
    );
}

#[test]
fn a_time_without_two_digit_hours_and_minutes_is_a_problem() {
    assert_eq!(
        window_problems("mon 9:00-17:00"),
        ["open[0]: `mon 9:00-17:00`: 9:00 is not a time (HH:MM, 00:00 to 24:00)"]
    );
    assert_eq!(
        window_problems("mon 0900-1700"),
        [
            "open[0]: `mon 0900-1700`: 0900 is not a time (HH:MM, 00:00 to 24:00)",
            "open[0]: `mon 0900-1700`: 1700 is not a time (HH:MM, 00:00 to 24:00)",
        ]
    );
}

#[test]
fn a_window_cannot_start_at_24_00() {
    assert_eq!(
        window_problems("mon 24:00-02:00"),
        ["open[0]: `mon 24:00-02:00`: a window cannot start at 24:00: use 00:00 on the next day"]
    );
}

#[test]
fn a_zero_length_window_is_a_problem() {
    assert_eq!(
        window_problems("mon 09:00-09:00"),
        [
            "open[0]: `mon 09:00-09:00`: `09:00-09:00` is empty: the start and the end are the same time"
        ]
    );
}

#[test]
fn a_window_from_00_00_to_00_00_is_zero_length_too() {
    assert_eq!(
        window_problems("mon 00:00-00:00"),
        [
            "open[0]: `mon 00:00-00:00`: `00:00-00:00` is empty: the start and the end are the same time"
        ]
    );
}

#[test]
fn a_time_range_without_a_dash_is_a_problem() {
    assert_eq!(
        window_problems("mon 09:00"),
        [
            "open[0]: `mon 09:00`: `09:00` is not a time range: expected HH:MM-HH:MM, as in `09:00-17:00`"
        ]
    );
    assert_eq!(
        window_problems("mon 09:00-12:00-17:00"),
        [
            "open[0]: `mon 09:00-12:00-17:00`: `09:00-12:00-17:00` is not a time range: expected HH:MM-HH:MM, as in `09:00-17:00`"
        ]
    );
}

#[test]
fn a_time_range_missing_an_end_is_a_problem() {
    assert_eq!(
        window_problems("mon 09:00-"),
        ["open[0]: `mon 09:00-`: missing the end time: expected HH:MM-HH:MM, as in `09:00-17:00`"]
    );
    assert_eq!(
        window_problems("mon -17:00"),
        [
            "open[0]: `mon -17:00`: missing the start time: expected HH:MM-HH:MM, as in `09:00-17:00`"
        ]
    );
}

#[test]
fn an_unknown_day_is_a_problem() {
    assert_eq!(
        window_problems("xyz 09:00-17:00"),
        [
            "open[0]: `xyz 09:00-17:00`: `xyz` is not a day: expected mon, tue, wed, thu, fri, sat or sun"
        ]
    );
}

#[test]
fn a_full_day_name_is_a_problem() {
    assert_eq!(
        window_problems("monday 09:00-17:00"),
        [
            "open[0]: `monday 09:00-17:00`: `monday` is not a day: expected mon, tue, wed, thu, fri, sat or sun"
        ]
    );
}

#[test]
fn an_unknown_day_at_either_end_of_a_range_is_a_problem() {
    assert_eq!(
        window_problems("mon-fry 09:00-17:00"),
        [
            "open[0]: `mon-fry 09:00-17:00`: `fry` is not a day: expected mon, tue, wed, thu, fri, sat or sun"
        ]
    );
}

#[test]
fn a_day_range_missing_an_end_is_a_problem() {
    assert_eq!(
        window_problems("mon- 09:00-17:00"),
        [
            "open[0]: `mon- 09:00-17:00`: `mon-` is not a day range: expected two days joined by `-`, as in `mon-fri`"
        ]
    );
}

#[test]
fn a_day_range_of_three_days_is_a_problem() {
    assert_eq!(
        window_problems("mon-wed-fri 09:00-17:00"),
        [
            "open[0]: `mon-wed-fri 09:00-17:00`: `mon-wed-fri` is not a day range: expected two days joined by `-`, as in `mon-fri`"
        ]
    );
}

#[test]
fn a_day_range_from_a_day_to_itself_is_a_problem() {
    assert_eq!(
        window_problems("tue-tue 09:00-17:00"),
        [
            "open[0]: `tue-tue 09:00-17:00`: `tue-tue` starts and ends on the same day: write `tue` for that day alone, or a range such as `mon-sun` for the whole week"
        ]
    );
}

#[test]
fn an_empty_entry_in_a_day_list_is_a_problem() {
    assert_eq!(
        window_problems("mon,,fri 09:00-17:00"),
        [
            "open[0]: `mon,,fri 09:00-17:00`: empty entry in the day list `mon,,fri`: expected days or day ranges separated by commas, as in `mon,wed,fri-sat`"
        ]
    );
}

#[test]
fn an_empty_window_is_a_problem() {
    assert_eq!(
        window_problems("  "),
        ["open[0]: `  `: empty window: expected `DAYS HH:MM-HH:MM`, as in `mon-fri 09:00-17:00`"]
    );
}

#[test]
fn a_window_without_days_is_a_problem() {
    assert_eq!(
        window_problems("09:00-17:00"),
        [
            "open[0]: `09:00-17:00`: missing the days before the time range: expected `DAYS HH:MM-HH:MM`, as in `mon-fri 09:00-17:00`"
        ]
    );
}

#[test]
fn a_window_without_a_time_range_is_a_problem() {
    assert_eq!(
        window_problems("mon-fri"),
        [
            "open[0]: `mon-fri`: missing the time range after the days: expected `DAYS HH:MM-HH:MM`, as in `mon-fri 09:00-17:00`"
        ]
    );
}

#[test]
fn spaces_inside_the_days_or_times_are_a_problem() {
    assert_eq!(
        window_problems("mon, fri 09:00-17:00"),
        [
            "open[0]: `mon, fri 09:00-17:00`: expected the days and the time range separated by one space, with no spaces inside either, as in `mon-fri 09:00-17:00` (found 3 parts)"
        ]
    );
    assert_eq!(
        window_problems("mon 09:00 - 17:00"),
        [
            "open[0]: `mon 09:00 - 17:00`: expected the days and the time range separated by one space, with no spaces inside either, as in `mon-fri 09:00-17:00` (found 4 parts)"
        ]
    );
}

#[test]
fn every_malformed_part_of_one_window_is_reported() {
    assert_eq!(
        window_problems("mon,xyz,abc-fri 25:00-17:60"),
        [
            "open[0]: `mon,xyz,abc-fri 25:00-17:60`: `xyz` is not a day: expected mon, tue, wed, thu, fri, sat or sun",
            "open[0]: `mon,xyz,abc-fri 25:00-17:60`: `abc` is not a day: expected mon, tue, wed, thu, fri, sat or sun",
            "open[0]: `mon,xyz,abc-fri 25:00-17:60`: 25:00 is not a time (HH:MM, 00:00 to 24:00)",
            "open[0]: `mon,xyz,abc-fri 25:00-17:60`: 17:60 is not a time (HH:MM, 00:00 to 24:00)",
        ]
    );
}

#[test]
fn a_closed_date_not_written_as_yyyy_mm_dd_is_a_problem() {
    let expected = |date: &str| {
        vec![format!(
            "closed_on[0]: `{date}`: not a date: expected YYYY-MM-DD, as in `2026-12-25`"
        )]
    };
    for date in [
        "25/12/2026",
        "2026-12-5",
        "20261225",
        "2026-12-25T00:00",
        "",
        "christmas",
    ] {
        assert_eq!(date_problems(date), expected(date), "{date}");
    }
}

#[test]
fn a_closed_date_with_a_month_outside_01_to_12_is_a_problem() {
    assert_eq!(
        date_problems("2026-13-01"),
        ["closed_on[0]: `2026-13-01`: not a date: month 13 is not 01 to 12"]
    );
    assert_eq!(
        date_problems("2026-00-10"),
        ["closed_on[0]: `2026-00-10`: not a date: month 00 is not 01 to 12"]
    );
}

#[test]
fn a_closed_date_past_the_end_of_its_month_is_a_problem() {
    assert_eq!(
        date_problems("2026-02-29"),
        ["closed_on[0]: `2026-02-29`: not a date: day 29 is not 01 to 28 (2026-02 has 28 days)"]
    );
    assert_eq!(
        date_problems("2026-04-31"),
        ["closed_on[0]: `2026-04-31`: not a date: day 31 is not 01 to 30 (2026-04 has 30 days)"]
    );
    assert_eq!(
        date_problems("2026-04-00"),
        ["closed_on[0]: `2026-04-00`: not a date: day 00 is not 01 to 30 (2026-04 has 30 days)"]
    );
}

#[test]
fn several_problems_are_reported_together_in_definition_order() {
    let found = problems(
        "Mars/Base",
        &["mon-fri 09:00-17:00", "sun 10:00-10:00", "xyz 09:00-17:00"],
        &["2026-12-25", "2026-02-30"],
    );
    assert_eq!(
        found,
        [
            "timezone: unknown time zone `Mars/Base`: use an IANA name such as America/New_York",
            "open[1]: `sun 10:00-10:00`: `10:00-10:00` is empty: the start and the end are the same time",
            "open[2]: `xyz 09:00-17:00`: `xyz` is not a day: expected mon, tue, wed, thu, fri, sat or sun",
            "closed_on[1]: `2026-02-30`: not a date: day 30 is not 01 to 28 (2026-02 has 28 days)",
        ]
    );
}

#[test]
fn an_empty_open_list_is_reported_with_other_problems() {
    let found = problems("Mars/Base", &[], &["someday"]);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("timezone: "));
    assert!(found[1].starts_with("open: no opening windows"));
    assert!(found[2].starts_with("closed_on[0]: "));
}

#[test]
fn the_example_definition_parses() {
    let schedule = valid(
        "America/New_York",
        &["mon-fri 09:00-17:00", "sat 10:00-14:00", "fri 22:00-02:00"],
        &["2026-12-25", "2027-01-01"],
    );
    // Saturday 2027-01-02 01:30 EST (06:30Z): after midnight of Friday's late window,
    // on a date that is not closed.
    assert!(open_at(&schedule, "2027-01-02T06:30:00Z"));
    // Saturday 2027-01-02 14:30 EST (19:30Z): after the Saturday window.
    assert!(!open_at(&schedule, "2027-01-02T19:30:00Z"));
}

#[test]
fn the_debug_form_shows_the_zone_windows_and_dates() {
    let schedule = valid(
        "Europe/Berlin",
        &["mon,wed-thu 09:00-17:00"],
        &["2026-12-25"],
    );
    let debug = format!("{schedule:?}");
    assert!(debug.contains("Europe/Berlin"), "{debug}");
    assert!(debug.contains(r#"{"mon", "wed", "thu"}"#), "{debug}");
    assert!(debug.contains("2026-12-25"), "{debug}");
}

// Daylight saving, America/New_York, 2026. Standard time (EST) is UTC-5, daylight
// time (EDT) is UTC-4. DST starts Sunday 2026-03-08 at 02:00 EST (07:00Z): clocks jump
// to 03:00 EDT. DST ends Sunday 2026-11-01 at 02:00 EDT (06:00Z): clocks fall back to
// 01:00 EST.

#[test]
fn new_york_opens_at_nine_local_on_the_day_daylight_saving_starts() {
    let schedule = valid("America/New_York", &["sun 09:00-17:00"], &[]);
    // After 07:00Z the offset is -4, so local = UTC - 4h.
    // 13:30Z - 4h = 09:30 EDT: open (under EST, -5h, it would be 08:30 and closed).
    assert!(open_at(&schedule, "2026-03-08T13:30:00Z"));
    // 12:59Z - 4h = 08:59 EDT: closed.
    assert!(!open_at(&schedule, "2026-03-08T12:59:00Z"));
    // 13:00Z - 4h = 09:00 EDT: the start, open.
    assert!(open_at(&schedule, "2026-03-08T13:00:00Z"));
}

#[test]
fn new_york_closes_at_five_local_on_the_day_daylight_saving_starts() {
    let schedule = valid("America/New_York", &["sun 09:00-17:00"], &[]);
    // 20:59Z - 4h = 16:59 EDT: open.
    assert!(open_at(&schedule, "2026-03-08T20:59:00Z"));
    // 21:00Z - 4h = 17:00 EDT: closed (under EST it would be 16:00 and open).
    assert!(!open_at(&schedule, "2026-03-08T21:00:00Z"));
}

#[test]
fn new_york_opens_an_hour_later_in_utc_the_week_before_daylight_saving() {
    let schedule = valid("America/New_York", &["sun 09:00-17:00"], &[]);
    // Sunday 2026-03-01 is still EST: local = UTC - 5h.
    // 13:30Z - 5h = 08:30 EST: closed, though the same UTC time is open a week later.
    assert!(!open_at(&schedule, "2026-03-01T13:30:00Z"));
    // 14:00Z - 5h = 09:00 EST: open.
    assert!(open_at(&schedule, "2026-03-01T14:00:00Z"));
    // 21:30Z - 5h = 16:30 EST: open.
    assert!(open_at(&schedule, "2026-03-01T21:30:00Z"));
}

#[test]
fn new_york_never_opens_a_window_inside_the_skipped_hour() {
    // On 2026-03-08 local times 02:00 to 02:59 do not exist.
    let schedule = valid("America/New_York", &["sun 02:00-03:00"], &[]);
    // 06:59Z - 5h = 01:59 EST: before the window.
    assert!(!open_at(&schedule, "2026-03-08T06:59:00Z"));
    // 07:00Z - 4h = 03:00 EDT: the next instant is already past the window.
    assert!(!open_at(&schedule, "2026-03-08T07:00:00Z"));
    // A week later (EDT), 02:30 local = 06:30Z is open as usual.
    assert!(open_at(&schedule, "2026-03-15T06:30:00Z"));
}

#[test]
fn new_york_window_spanning_the_skipped_hour_is_one_hour_shorter() {
    let schedule = valid("America/New_York", &["sun 01:00-04:00"], &[]);
    // Opens 01:00 EST = 06:00Z, closes 04:00 EDT = 08:00Z: two real hours, not three.
    assert!(!open_at(&schedule, "2026-03-08T05:59:00Z"), "00:59 EST");
    assert!(open_at(&schedule, "2026-03-08T06:00:00Z"), "01:00 EST");
    assert!(open_at(&schedule, "2026-03-08T07:30:00Z"), "03:30 EDT");
    assert!(!open_at(&schedule, "2026-03-08T08:00:00Z"), "04:00 EDT");
}

#[test]
fn new_york_overnight_window_across_the_spring_change_ends_at_local_time() {
    let schedule = valid("America/New_York", &["sat 22:00-06:00"], &[]);
    // Saturday 2026-03-07 22:00 EST = 03:00Z Sunday: opens.
    assert!(open_at(&schedule, "2026-03-08T03:00:00Z"));
    // 09:59Z - 4h = 05:59 EDT: still open.
    assert!(open_at(&schedule, "2026-03-08T09:59:00Z"));
    // 10:00Z - 4h = 06:00 EDT: closed (under EST it would be 05:00 and open).
    assert!(!open_at(&schedule, "2026-03-08T10:00:00Z"));
}

#[test]
fn new_york_opens_at_nine_local_on_the_day_daylight_saving_ends() {
    let schedule = valid("America/New_York", &["sun 09:00-17:00"], &[]);
    // After 06:00Z the offset is -5, so local = UTC - 5h.
    // 13:30Z - 5h = 08:30 EST: closed (under EDT, -4h, it would be 09:30 and open).
    assert!(!open_at(&schedule, "2026-11-01T13:30:00Z"));
    // 13:59Z - 5h = 08:59 EST: closed.
    assert!(!open_at(&schedule, "2026-11-01T13:59:00Z"));
    // 14:00Z - 5h = 09:00 EST: open.
    assert!(open_at(&schedule, "2026-11-01T14:00:00Z"));
}

#[test]
fn new_york_closes_at_five_local_on_the_day_daylight_saving_ends() {
    let schedule = valid("America/New_York", &["sun 09:00-17:00"], &[]);
    // 21:30Z - 5h = 16:30 EST: open (under EDT it would be 17:30 and closed).
    assert!(open_at(&schedule, "2026-11-01T21:30:00Z"));
    // 22:00Z - 5h = 17:00 EST: closed.
    assert!(!open_at(&schedule, "2026-11-01T22:00:00Z"));
}

#[test]
fn new_york_window_holding_the_repeated_hour_is_open_both_times() {
    // On 2026-11-01 local 01:00 to 01:59 happens twice: 05:00Z-06:00Z as EDT and
    // 06:00Z-07:00Z as EST.
    let schedule = valid("America/New_York", &["sun 01:00-02:00"], &[]);
    // 04:59Z - 4h = 00:59 EDT: closed.
    assert!(!open_at(&schedule, "2026-11-01T04:59:00Z"));
    // 05:30Z - 4h = 01:30 EDT: open, the first time.
    assert!(open_at(&schedule, "2026-11-01T05:30:00Z"));
    // 06:30Z - 5h = 01:30 EST: open, the second time.
    assert!(open_at(&schedule, "2026-11-01T06:30:00Z"));
    // 07:00Z - 5h = 02:00 EST: closed.
    assert!(!open_at(&schedule, "2026-11-01T07:00:00Z"));
}

// Daylight saving, Europe/Berlin, 2026. Standard time (CET) is UTC+1, summer time
// (CEST) is UTC+2. Summer time starts Sunday 2026-03-29 at 02:00 CET (01:00Z): clocks
// jump to 03:00 CEST. It ends Sunday 2026-10-25 at 03:00 CEST (01:00Z): clocks fall
// back to 02:00 CET.

#[test]
fn berlin_keeps_local_hours_on_the_day_summer_time_starts() {
    let schedule = valid("Europe/Berlin", &["sun 09:00-17:00"], &[]);
    // After 01:00Z the offset is +2, so local = UTC + 2h.
    // 07:30Z + 2h = 09:30 CEST: open (under CET, +1h, it would be 08:30 and closed).
    assert!(open_at(&schedule, "2026-03-29T07:30:00Z"));
    // 06:59Z + 2h = 08:59 CEST: closed.
    assert!(!open_at(&schedule, "2026-03-29T06:59:00Z"));
    // 07:00Z + 2h = 09:00 CEST: open.
    assert!(open_at(&schedule, "2026-03-29T07:00:00Z"));
    // 14:59Z + 2h = 16:59 CEST: open.
    assert!(open_at(&schedule, "2026-03-29T14:59:00Z"));
    // 15:00Z + 2h = 17:00 CEST: closed (under CET it would be 16:00 and open).
    assert!(!open_at(&schedule, "2026-03-29T15:00:00Z"));
}

#[test]
fn berlin_skipped_hour_never_opens() {
    // On 2026-03-29 local 02:00 to 02:59 does not exist.
    let schedule = valid("Europe/Berlin", &["sun 02:00-03:00"], &[]);
    // 00:59Z + 1h = 01:59 CET: closed.
    assert!(!open_at(&schedule, "2026-03-29T00:59:00Z"));
    // 01:00Z + 2h = 03:00 CEST: closed.
    assert!(!open_at(&schedule, "2026-03-29T01:00:00Z"));
}

#[test]
fn berlin_keeps_local_hours_on_the_day_summer_time_ends() {
    let schedule = valid("Europe/Berlin", &["sun 09:00-17:00"], &[]);
    // After 01:00Z the offset is +1, so local = UTC + 1h.
    // 07:30Z + 1h = 08:30 CET: closed (under CEST, +2h, it would be 09:30 and open).
    assert!(!open_at(&schedule, "2026-10-25T07:30:00Z"));
    // 08:00Z + 1h = 09:00 CET: open.
    assert!(open_at(&schedule, "2026-10-25T08:00:00Z"));
    // 15:30Z + 1h = 16:30 CET: open (under CEST it would be 17:30 and closed).
    assert!(open_at(&schedule, "2026-10-25T15:30:00Z"));
    // 16:00Z + 1h = 17:00 CET: closed.
    assert!(!open_at(&schedule, "2026-10-25T16:00:00Z"));
}

#[test]
fn berlin_window_holding_the_repeated_hour_is_open_both_times() {
    // On 2026-10-25 local 02:00 to 02:59 happens twice: 00:00Z-01:00Z as CEST and
    // 01:00Z-02:00Z as CET.
    let schedule = valid("Europe/Berlin", &["sun 02:00-03:00"], &[]);
    // 23:59Z Saturday + 2h = 01:59 CEST Sunday: closed.
    assert!(!open_at(&schedule, "2026-10-24T23:59:00Z"));
    // 00:30Z + 2h = 02:30 CEST: open, the first time.
    assert!(open_at(&schedule, "2026-10-25T00:30:00Z"));
    // 01:30Z + 1h = 02:30 CET: open, the second time.
    assert!(open_at(&schedule, "2026-10-25T01:30:00Z"));
    // 02:00Z + 1h = 03:00 CET: closed.
    assert!(!open_at(&schedule, "2026-10-25T02:00:00Z"));
}

#[test]
fn a_closed_date_follows_the_local_calendar_across_a_daylight_saving_change() {
    // Local 2026-03-08 in New York starts at 00:00 EST = 05:00Z and ends at
    // 24:00 EDT = 04:00Z on the 9th: a 23-hour day, all of it closed.
    let schedule = valid(
        "America/New_York",
        &["mon-sun 00:00-24:00"],
        &["2026-03-08"],
    );
    assert!(
        open_at(&schedule, "2026-03-08T04:59:59Z"),
        "7th 23:59:59 EST"
    );
    assert!(!open_at(&schedule, "2026-03-08T05:00:00Z"), "8th 00:00 EST");
    assert!(
        !open_at(&schedule, "2026-03-09T03:59:59Z"),
        "8th 23:59:59 EDT"
    );
    assert!(open_at(&schedule, "2026-03-09T04:00:00Z"), "9th 00:00 EDT");
}
