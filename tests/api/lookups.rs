//! Lists and maps: files beside the rules, read in expressions and templates, checked at
//! load, swapped on reload.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::process::*;

/// A rules file reading a list and a map kept beside it (the same temp folder).
fn vip_rules(list: &str, map: &str) -> String {
    let list = temp_file("vip.txt", list);
    let map = temp_file("managers.csv", map);
    format!(
        r#"
        [lists.vip_numbers]
        file = "{}"

        [maps.account_manager]
        file = "{}"

        [[rules]]
        name = "vip-to-account-manager"
        when = 'task.from IN lists.vip_numbers AND maps.account_manager[task.from] != null'
        instruction = "dequeue"
        from = "{{{{task.to}}}}"
        to = "{{{{maps.account_manager[task.from]}}}}"

        [[rules]]
        name = "vip-without-manager"
        when = 'lists.vip_numbers HAS task.from'
        instruction = "reject"
        activity_sid = "WA0123456789abcdef0123456789abcdef"

        [default]
        instruction = "accept"
        "#,
        list.file_name().unwrap().to_str().unwrap(),
        map.file_name().unwrap().to_str().unwrap(),
    )
}

fn from(number: &str) -> Vec<(String, String)> {
    callback(json!({"from": number, "to": "+15005550100"}), json!({}))
}

#[tokio::test]
async fn a_list_and_a_map_route_callbacks_and_fill_templates() {
    // Arrange
    let app = spawn_app(&vip_rules(
        "# VIPs\n+15005550006\n+15005550007\n",
        "key,value\n+15005550006,client:alice\n",
    ))
    .await;

    // Act
    let managed = instruction_of(app.post_signed(&from("+15005550006")).await).await;
    let unmanaged = instruction_of(app.post_signed(&from("+15005550007")).await).await;
    let stranger = instruction_of(app.post_signed(&from("+15005550999")).await).await;

    // Assert
    assert_eq!(
        managed,
        json!({"instruction": "dequeue", "from": "+15005550100", "to": "client:alice"})
    );
    assert_eq!(
        unmanaged,
        json!({"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"})
    );
    assert_eq!(stranger, json!({"instruction": "accept"}));
}

#[test]
fn check_names_the_map_file_and_line_of_every_bad_row_and_starts_nothing() {
    // Arrange
    let rules = vip_rules(
        "+15005550006\n",
        "+15005550006,client:alice\nbroken\n+15005550006,client:bob\n",
    );
    let mut check = command(&rules, &[]);
    check.arg("check");

    // Act
    let output = run_to_end(check);

    // Assert
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("2 problems"), "{stdout}");
    assert!(
        stdout.contains("map \"account_manager\", field `file`: ")
            && stdout.contains("managers.csv: line 2: expected two columns, `key,value`, found 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 3: key `+15005550006` is given again (first on line 1)"),
        "{stdout}"
    );
    assert!(!stdout.contains(" ok, "), "{stdout}");
}

#[test]
fn serve_refuses_to_start_on_a_missing_list_file_naming_it() {
    // Arrange
    let rules = "[lists.vip]\nfile = \"no-such-list.txt\"\n\n[[rules]]\nname = \"r\"\n\
                 when = 'task.from IN lists.vip'\ninstruction = \"accept\"\n\n\
                 [default]\ninstruction = \"accept\"\n";

    // Act
    let output = run_to_end(command(rules, &[]));

    // Assert
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("list \"vip\", field `file`: cannot read ")
            && text.contains("no-such-list.txt"),
        "{text}"
    );
    assert!(!text.contains("listening"), "{text}");
}

#[tokio::test]
async fn sighup_swaps_a_changed_list_with_the_rules_and_a_bad_map_keeps_the_old_ones() {
    // Arrange: the list starts without the caller.
    let list = temp_file("reload-vip.txt", "+15005550001\n");
    let map = temp_file("reload-managers.csv", "+15005550001,client:zoe\n");
    let rules_text = format!(
        "[lists.vip]\nfile = \"{}\"\n\n[maps.manager]\nfile = \"{}\"\n\n[[rules]]\nname = \"vip\"\n\
         when = 'task.from IN lists.vip'\ninstruction = \"dequeue\"\nfrom = \"+15005550100\"\n\
         to = \"{{{{maps.manager[task.from]}}}}\"\n\n[default]\ninstruction = \"accept\"\n",
        list.file_name().unwrap().to_str().unwrap(),
        map.file_name().unwrap().to_str().unwrap(),
    );
    let rules_file = temp_file("reload-lookups.toml", &rules_text);
    let mut running =
        start_with_json_logs(command_for(&rules_file, &[("APP_RULES__WATCH", "false")]));
    let pairs = from("+15005550006");
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);
    let ask = async |running: &Running| -> Value {
        running
            .post(&encode(&pairs), Some(&signature))
            .await
            .json()
            .await
            .unwrap()
    };
    let before = ask(&running).await;

    // Act: the caller joins the list and the map; then the map breaks.
    std::fs::write(&list, "+15005550001\n+15005550006\n").unwrap();
    std::fs::write(&map, "+15005550001,client:zoe\n+15005550006,client:alice\n").unwrap();
    running.hang_up();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = ask(&running).await;
    std::fs::write(&map, "+15005550006\n").unwrap();
    running.hang_up();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_broken = ask(&running).await;
    running.terminate();

    // Assert
    assert_eq!(before, json!({"instruction": "accept"}));
    let alice = json!({"instruction": "dequeue", "from": "+15005550100", "to": "client:alice"});
    assert_eq!(after, alice);
    assert_eq!(after_broken, alice, "the old rules, list and map stay");
    let logged: String = running.lines.iter().collect::<Vec<_>>().join("\n");
    assert!(
        logged.contains("line 1: expected two columns"),
        "every problem is logged: {logged}"
    );
}
