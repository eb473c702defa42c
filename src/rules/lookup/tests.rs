use super::*;

#[test]
fn a_list_skips_blank_lines_and_comments_and_trims_values() {
    let list = List::parse(
        "vip",
        "# VIP numbers\n+15005550006\n\n  +15005550007  \n#+15005550008\n",
    );
    assert_eq!(list.len(), 2);
    assert!(list.contains("+15005550006"));
    assert!(list.contains("+15005550007"));
    assert!(!list.contains("+15005550008"));
    assert!(!list.contains(""));
}

#[test]
fn a_value_given_twice_is_kept_once() {
    let list = List::parse("vip", "a\na\nb\n");
    assert_eq!(list.len(), 2);
}

#[test]
fn a_map_reads_key_value_rows_with_an_optional_header() {
    let map =
        Map::parse("key,value\n+15005550006,client:alice\n+15005550007, client:bob \n").unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(map.get("+15005550006"), Some("client:alice"));
    assert_eq!(map.get("+15005550007"), Some("client:bob"));
    assert_eq!(map.get("key"), None);
}

#[test]
fn a_header_is_only_a_header_on_the_first_data_line() {
    let map = Map::parse("a,1\nkey,value\n").unwrap();
    assert_eq!(map.get("key"), Some("value"));
}

#[test]
fn quoted_fields_may_hold_commas_and_quotes() {
    let map = Map::parse("\"Smith, Jane\",\"say \"\"hi\"\"\"\n").unwrap();
    assert_eq!(map.get("Smith, Jane"), Some("say \"hi\""));
}

#[test]
fn an_empty_value_is_a_value() {
    let map = Map::parse("a,\n").unwrap();
    assert_eq!(map.get("a"), Some(""));
}

#[test]
fn every_bad_row_is_reported_with_its_line() {
    let problems = Map::parse("a,1\nb\nc,2,3\n,4\n\"d,5\na,6\n").unwrap_err();
    assert_eq!(
        problems,
        vec![
            "line 2: expected two columns, `key,value`, found 1",
            "line 3: expected two columns, `key,value`, found 3",
            "line 4: the key is empty",
            "line 5: a quoted field is not closed",
            "line 6: key `a` is given again (first on line 1)",
        ]
    );
}

#[test]
fn text_after_a_closing_quote_is_refused() {
    let problems = Map::parse("\"a\"b,1\n").unwrap_err();
    assert_eq!(
        problems,
        vec![
            "line 1: unexpected `b` after a quoted field (a field's quotes must enclose all of it)"
        ]
    );
}

#[test]
fn debug_shows_sizes_not_contents() {
    let list = List::parse("vip", "secret-number\n");
    assert_eq!(format!("{list:?}"), "List(vip: 1 values)");
    let map = Map::parse("k,secret-value\n").unwrap();
    assert_eq!(format!("{map:?}"), "Map(1 entries)");
}
