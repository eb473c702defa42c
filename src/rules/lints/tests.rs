use super::*;
use crate::rules::file::parse;

/// The lints of a file that loads, as `check` shows them (without the file name).
fn warnings(text: &str) -> Vec<String> {
    let set = parse(text).unwrap_or_else(|problems| panic!("{problems:#?}\nin:\n{text}"));
    lint(&set, text).iter().map(ToString::to_string).collect()
}

const DEFAULT: &str = "\n[default]\ninstruction = \"accept\"\n";

/// One rule named `r` (its `[[rules]]` on line 1, its first key on line 3), then the default.
fn with_rule(body: &str) -> String {
    format!("[[rules]]\nname = \"r\"\n{body}\n{DEFAULT}")
}

#[test]
fn every_rule_after_one_that_always_answers_is_reported_naming_that_rule() {
    let text = format!(
        "[[rules]]\nname = \"everyone\"\ninstruction = \"accept\"\n\n\
         [[rules]]\nname = \"vip\"\nwhen = \"task.vip == true\"\ninstruction = \"reject\"\n\
         activity_sid = \"WA0123456789abcdef0123456789abcdef\"\n\n\
         [[rules]]\nname = \"chat\"\ninstruction = \"defer\"\n{DEFAULT}"
    );
    assert_eq!(
        warnings(&text),
        [
            "rule \"vip\": line 5: never answers: rule \"everyone\" (line 1) answers every \
             callback first, as it has no `when` and no template; move \"vip\" above it, or \
             give \"everyone\" a `when` that can be false",
            "rule \"chat\": line 11: never answers: rule \"everyone\" (line 1) answers every \
             callback first, as it has no `when` and no template; move \"chat\" above it, or \
             give \"everyone\" a `when` that can be false",
        ]
    );
}

#[test]
fn a_rule_whose_when_is_always_true_and_holds_no_template_hides_the_rules_after_it() {
    let text = format!(
        "[[rules]]\nname = \"always\"\nwhen = \"NOT false\"\ninstruction = \"accept\"\n\
         [[rules]]\nname = \"vip\"\nwhen = \"task.vip == true\"\ninstruction = \"defer\"\n\
         {DEFAULT}"
    );
    assert_eq!(
        warnings(&text),
        [
            "rule \"always\": line 3: its `when` reads nothing from the callback, so it is \
             always true: leave `when` out to match every callback",
            "rule \"vip\": line 5: never answers: rule \"always\" (line 1) answers every \
             callback first, as its `when` is always true and it has no template; move \"vip\" \
             above it, or give \"always\" a `when` that can be false",
        ]
    );
}

#[test]
fn a_rule_that_may_be_skipped_for_a_template_hides_nothing() {
    for first in [
        "[[rules]]\nname = \"first\"\ninstruction = \"dequeue\"\nfrom = \"{{task.to}}\"\n",
        "[[rules]]\nname = \"first\"\ninstruction = \"call\"\nfrom = \"+15005550006\"\n\
         url = \"https://example.com/twiml?task={{task.id}}\"\n",
    ] {
        let text = format!(
            "{first}\n[[rules]]\nname = \"second\"\nwhen = \"task.vip == true\"\n\
             instruction = \"accept\"\n{DEFAULT}"
        );
        assert_eq!(warnings(&text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn a_constant_true_when_with_a_template_is_reported_but_hides_nothing() {
    let text = format!(
        "[[rules]]\nname = \"first\"\nwhen = \"true\"\ninstruction = \"dequeue\"\n\
         from = \"{{{{task.to}}}}\"\n\n\
         [[rules]]\nname = \"second\"\nwhen = \"task.vip == true\"\ninstruction = \"accept\"\n\
         {DEFAULT}"
    );
    assert_eq!(
        warnings(&text),
        [
            "rule \"first\": line 3: its `when` reads nothing from the callback, so it is always \
          true: leave `when` out to match every callback"
        ]
    );
}

#[test]
fn the_default_is_not_reported_after_a_rule_that_always_answers() {
    let text = format!("[[rules]]\nname = \"everyone\"\ninstruction = \"accept\"\n{DEFAULT}");
    assert_eq!(warnings(&text), Vec::<String>::new());
}

#[test]
fn a_when_the_same_as_an_earlier_one_once_normalised_names_the_first_rule_with_it() {
    let text = format!(
        "[[rules]]\nname = \"spanish\"\nwhen = 'task.language == \"es\" AND TaskAge > 30'\n\
         instruction = \"dequeue\"\nfrom = \"{{{{task.to}}}}\"\n\n\
         [[rules]]\nname = \"spanish-again\"\n\
         when = \"((task.language = 'es')  and  TaskAge > 30.0)\"\ninstruction = \"accept\"\n\n\
         [[rules]]\nname = \"spanish-once-more\"\n\
         when = '''\ntask.language == \"es\"\n  AND (TaskAge > 30)'''\ninstruction = \"defer\"\n\
         {DEFAULT}"
    );
    assert_eq!(
        warnings(&text),
        [
            "rule \"spanish-again\": line 9: its `when` is the same as rule \"spanish\"'s \
             (line 3), so \"spanish-again\" answers only when \"spanish\" is skipped (a \
             template of \"spanish\" has no value)",
            "rule \"spanish-once-more\": line 14: its `when` is the same as rule \"spanish\"'s \
             (line 3), so \"spanish-once-more\" answers only when \"spanish\" is skipped (a \
             template of \"spanish\" has no value)",
        ]
    );
}

#[test]
fn a_when_the_same_as_that_of_a_rule_with_no_template_never_answers() {
    let text = format!(
        "[[rules]]\nname = \"vip\"\nwhen = \"task.vip == true\"\ninstruction = \"accept\"\n\
         [[rules]]\nname = \"vip-reject\"\nwhen = \"task.vip = TRUE\"\ninstruction = \"reject\"\n\
         activity_sid = \"WA0123456789abcdef0123456789abcdef\"\n{DEFAULT}"
    );
    assert_eq!(
        warnings(&text),
        [
            "rule \"vip-reject\": line 7: its `when` is the same as rule \"vip\"'s (line 3), and \
          \"vip\" has no template that could skip it, so \"vip-reject\" never answers"
        ]
    );
}

#[test]
fn different_whens_are_not_reported() {
    for (first, second) in [
        ("task.language == \"es\"", "task.language == \"en\""),
        ("TaskAge > 30", "TaskAge >= 30"),
        ("task.vip == true", "task.vip"),
        ("task.a == 1 AND task.b == 2", "task.a == 1"),
        (
            "worker.skills HAS \"billing\"",
            "task.skills HAS \"billing\"",
        ),
    ] {
        let text = format!(
            "[[rules]]\nname = \"a\"\nwhen = '{first}'\ninstruction = \"accept\"\n\
             [[rules]]\nname = \"b\"\nwhen = '{second}'\ninstruction = \"defer\"\n{DEFAULT}"
        );
        assert_eq!(warnings(&text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn a_when_that_reads_nothing_is_reported_as_always_true_or_always_false() {
    let always_true = "rule \"r\": line 3: its `when` reads nothing from the callback, so it is \
                       always true: leave `when` out to match every callback";
    let always_false = "rule \"r\": line 3: its `when` reads nothing from the callback and is \
                        always false, so \"r\" never matches";
    for (when, expected) in [
        ("true", always_true),
        ("1 == 1", always_true),
        ("\"a\" IN [\"a\"]", always_true),
        ("NOT false", always_true),
        ("null == null AND (2 > 1 OR false)", always_true),
        ("false", always_false),
        ("1 == 2", always_false),
        ("\"b\" IN [\"a\"]", always_false),
        ("NOT true", always_false),
        ("\"1\" == 1", always_false),
    ] {
        let text = with_rule(&format!("when = '{when}'\ninstruction = \"defer\""));
        assert_eq!(warnings(&text), [expected], "{when}");
    }
}

#[test]
fn a_when_that_reads_the_callback_is_not_constant() {
    for when in [
        "task.vip",
        "schedule.office",
        "NOT schedule.office",
        "TaskAge > 0",
        "worker.level IN [\"a\", \"b\"]",
        "task.x == task.x",
        "true AND task.vip == true",
    ] {
        // The second rule reads the schedule, so that it is not reported unused.
        let text = format!(
            "[[rules]]\nname = \"r\"\nwhen = '{when}'\ninstruction = \"defer\"\n\
             [[rules]]\nname = \"office\"\nwhen = 'schedule.office AND task.office == true'\n\
             instruction = \"accept\"\n{DEFAULT}\n\
             [schedules.office]\ntimezone = \"UTC\"\nopen = [\"mon-fri 09:00-17:00\"]\n"
        );
        assert_eq!(warnings(&text), Vec::<String>::new(), "{when}");
    }
}

#[test]
fn reject_without_activity_sid_is_reported_in_a_rule_and_in_the_default() {
    let text = "[[rules]]\nname = \"trainees\"\nwhen = 'worker.level == \"trainee\"'\n\
                instruction = \"reject\"\n\n[default]\ninstruction = \"reject\"\n";
    let why = "`reject` without `activity_sid`: the Worker keeps its Activity, so while it is \
               available TaskRouter can offer it the Task straight back (and cancels a Task \
               after 1,000 rejections); set `activity_sid` to an unavailable Activity (WA…)";
    assert_eq!(
        warnings(text),
        [
            format!("rule \"trainees\": line 4: {why}"),
            format!("[default]: line 7: {why}"),
        ]
    );
}

#[test]
fn reject_with_activity_sid_is_not_reported() {
    for activity in [
        "\"WAfedcba9876543210fedcba9876543210\"",
        "\"{{worker.away_activity_sid}}\"",
    ] {
        let text = with_rule(&format!(
            "when = 'worker.level == \"trainee\"'\ninstruction = \"reject\"\n\
             activity_sid = {activity}"
        ));
        assert_eq!(warnings(&text), Vec::<String>::new(), "{activity}");
    }
}

#[test]
fn a_schedule_no_rule_reads_is_reported_with_its_line() {
    let text = format!(
        "{}\n[schedules.office]\ntimezone = \"UTC\"\nopen = [\"mon-fri 09:00-17:00\"]\n\n\
         [schedules.holidays]\ntimezone = \"UTC\"\nopen = [\"sat-sun 00:00-24:00\"]\n",
        with_rule("when = 'schedule.office'\ninstruction = \"defer\"")
    );
    assert_eq!(
        warnings(&text),
        [
            "schedule \"holidays\": line 13: declared, but no rule reads it: remove it, or use \
          `schedule.holidays` in a rule's `when`"
        ]
    );
}

#[test]
fn a_schedule_read_by_one_rule_in_a_when_or_a_template_is_not_reported() {
    for body in [
        "when = 'task.vip == true AND NOT schedule.office'\ninstruction = \"defer\"",
        "instruction = \"call\"\nfrom = \"+15005550006\"\n\
         url = \"https://example.com/twiml?open={{schedule.office}}\"",
    ] {
        let text = format!(
            "{}\n[schedules.office]\ntimezone = \"UTC\"\nopen = [\"mon-fri 09:00-17:00\"]\n",
            with_rule(body)
        );
        assert_eq!(warnings(&text), Vec::<String>::new(), "{body}");
    }
}

#[test]
fn a_line_that_cannot_be_found_is_left_out_rather_than_guessed() {
    // Arrange: lines are looked for in the text given, here not the one the set came from.
    let text = format!(
        "[[rules]]\nname = \"a\"\ninstruction = \"accept\"\n\
         [[rules]]\nname = \"b\"\nwhen = \"1 == 2\"\ninstruction = \"reject\"\n{DEFAULT}\
         [schedules.unused]\ntimezone = \"UTC\"\nopen = [\"mon 09:00-17:00\"]\n"
    );
    let set = parse(&text).unwrap();
    // Act
    let found: Vec<String> = lint(&set, "").iter().map(ToString::to_string).collect();
    // Assert
    assert_eq!(
        found,
        [
            "rule \"b\": its `when` reads nothing from the callback and is always false, so \
             \"b\" never matches",
            "rule \"b\": never answers: rule \"a\" answers every callback first, as it has no \
             `when` and no template; move \"b\" above it, or give \"a\" a `when` that can be \
             false",
            "rule \"b\": `reject` without `activity_sid`: the Worker keeps its Activity, so \
             while it is available TaskRouter can offer it the Task straight back (and cancels \
             a Task after 1,000 rejections); set `activity_sid` to an unavailable Activity (WA…)",
            "schedule \"unused\": declared, but no rule reads it: remove it, or use \
             `schedule.unused` in a rule's `when`",
        ]
    );
}

#[test]
fn a_shadow_rule_neither_hides_later_rules_nor_is_hidden_nor_repeats_a_when() {
    // Arrange: a shadow rule that would answer everything, one trying a live rule's `when`,
    // one after a rule that always answers, and the only one to read a schedule.
    let text = format!(
        "[[rules]]\nname = \"try-everyone\"\nmode = \"shadow\"\ninstruction = \"accept\"\n\n\
         [[rules]]\nname = \"vip\"\nwhen = \"task.vip == true\"\ninstruction = \"dequeue\"\n\
         from = \"{{{{task.to}}}}\"\n\n\
         [[rules]]\nname = \"try-vip\"\nmode = \"shadow\"\nwhen = \"task.vip = true\"\n\
         instruction = \"reject\"\nactivity_sid = \"WAfedcba9876543210fedcba9876543210\"\n\n\
         [[rules]]\nname = \"everyone\"\ninstruction = \"accept\"\n\n\
         [[rules]]\nname = \"try-after\"\nmode = \"shadow\"\nwhen = 'schedule.office'\n\
         instruction = \"defer\"\n{DEFAULT}\n\
         [schedules.office]\ntimezone = \"UTC\"\nopen = [\"mon-fri 09:00-17:00\"]\n"
    );
    // Act and assert
    assert_eq!(warnings(&text), Vec::<String>::new());
}

#[test]
fn a_shadow_rule_is_linted_on_its_own_in_its_place_in_the_file() {
    let text = format!(
        "[[rules]]\nname = \"live\"\nwhen = 'task.x == 1'\ninstruction = \"reject\"\n\
         [[rules]]\nname = \"try\"\nmode = \"shadow\"\nwhen = \"false\"\ninstruction = \"reject\"\n\
         [[rules]]\nname = \"live-too\"\nwhen = 'task.y == 1'\ninstruction = \"reject\"\n\
         {DEFAULT}"
    );
    let why = "`reject` without `activity_sid`: the Worker keeps its Activity, so while it is \
               available TaskRouter can offer it the Task straight back (and cancels a Task \
               after 1,000 rejections); set `activity_sid` to an unavailable Activity (WA…)";
    assert_eq!(
        warnings(&text),
        [
            format!("rule \"live\": line 4: {why}"),
            "rule \"try\": line 8: its `when` reads nothing from the callback and is always \
             false, so \"try\" never matches"
                .to_owned(),
            format!("rule \"try\": line 9: {why}"),
            format!("rule \"live-too\": line 13: {why}"),
        ]
    );
}

#[test]
fn a_file_with_none_of_these_mistakes_has_no_lints() {
    let text = "\
# Comments and blank lines are allowed anywhere.
[[rules]]
name = \"spanish\"
when = 'task.language == \"es\" AND schedule.office'
instruction = \"dequeue\"
from = \"{{task.to}}\"

[[rules]]
name = \"trainees\"
when = 'task.escalated == true AND worker.level == \"trainee\"'
instruction = \"reject\"
activity_sid = \"WAfedcba9876543210fedcba9876543210\"

[[rules]]
name = \"everyone-else\"
instruction = \"accept\"

[default]
instruction = \"accept\"

[schedules.office]
timezone = \"America/New_York\"
open = [\"mon-fri 09:00-17:00\"]
";
    assert_eq!(warnings(text), Vec::<String>::new());
}
