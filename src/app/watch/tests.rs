use super::*;

/// A folder of this test's own, empty.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ar-watch-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Watches `paths` as they are now, as after a read at start.
fn watching(paths: &[PathBuf]) -> Watch {
    Watch::new(&Snapshot::take(paths), paths.to_vec())
}

/// Whether each of `polls` successive polls asked for a reload.
fn polls(watch: &mut Watch, polls: usize) -> Vec<bool> {
    (0..polls).map(|_| watch.poll()).collect()
}

#[test]
fn files_that_do_not_change_never_ask_for_a_reload() {
    let dir = folder("still");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[default]\ninstruction = \"accept\"\n").unwrap();
    let mut watch = watching(&[rules, dir.join("absent.txt")]);
    assert_eq!(polls(&mut watch, 4), [false; 4]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_rewritten_in_place_asks_for_one_reload_once_it_holds_still() {
    let dir = folder("in-place");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[default]\ninstruction = \"accept\"\n").unwrap();
    let mut watch = watching(std::slice::from_ref(&rules));
    std::fs::write(&rules, "[default]\ninstruction = \"defer\"\n").unwrap();
    // The poll that sees the change waits; the next one, finding it settled, asks.
    assert_eq!(polls(&mut watch, 2), [false, true]);
    // Once read, the same files ask for nothing more.
    watch = Watch::new(&watch.snapshot(), vec![rules]);
    assert_eq!(polls(&mut watch, 3), [false; 3]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_reload_a_change_asks_for_names_the_files_that_changed_and_no_other() {
    let dir = folder("names");
    let (rules, list) = (dir.join("rules.toml"), dir.join("vip_numbers.txt"));
    std::fs::write(&rules, "[default]\ninstruction = \"accept\"\n").unwrap();
    std::fs::write(&list, "+15005550006\n").unwrap();
    let mut watch = watching(&[rules.clone(), list.clone()]);
    let before = watch.changed();
    assert!(before.is_empty(), "{before:?}");
    std::fs::write(&list, "+15005550006\n+15005550007\n").unwrap();
    assert_eq!(polls(&mut watch, 2), [false, true]);
    assert_eq!(watch.changed(), [list.as_path()]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn changes_poll_after_poll_wait_until_they_stop() {
    let dir = folder("burst");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "#\n").unwrap();
    let mut watch = watching(std::slice::from_ref(&rules));
    let mut asked = Vec::new();
    for n in 1..=5 {
        std::fs::write(&rules, "#".repeat(n + 1)).unwrap();
        asked.push(watch.poll());
    }
    // The poll after the last write finds it settled.
    asked.push(watch.poll());
    assert_eq!(asked, [false, false, false, false, false, true]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_goes_away_and_comes_back_is_a_change_each_time() {
    let dir = folder("gone");
    let list = dir.join("vip_numbers.txt");
    std::fs::write(&list, "+15005550006\n").unwrap();
    let mut watch = watching(std::slice::from_ref(&list));
    std::fs::remove_file(&list).unwrap();
    assert_eq!(polls(&mut watch, 2), [false, true]);
    // The reload fails (the file is missing) and is not tried again while it stays missing.
    watch = Watch::new(&watch.snapshot(), vec![list.clone()]);
    assert_eq!(polls(&mut watch, 3), [false; 3]);
    std::fs::write(&list, "+15005550006\n+15005550007\n").unwrap();
    assert_eq!(polls(&mut watch, 2), [false, true]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kubernetes_configmap_swap_is_seen_through_its_symlinks() {
    // Arrange: the layout of a ConfigMap volume, as the kubelet writes it.
    let dir = folder("configmap");
    let write_version = |name: &str, rules: &str| {
        std::fs::create_dir(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("rules.toml"), rules).unwrap();
    };
    write_version(
        "..2026_01_01_00_00_00.1",
        "[default]\ninstruction = \"accept\"\n",
    );
    std::os::unix::fs::symlink("..2026_01_01_00_00_00.1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/rules.toml", dir.join("rules.toml")).unwrap();
    let rules = dir.join("rules.toml");
    let mut watch = watching(std::slice::from_ref(&rules));

    // Act: the same length of text, in a new folder swapped in by renaming a link.
    write_version(
        "..2026_01_01_00_01_00.2",
        "[default]\ninstruction = \"reject\"\n",
    );
    assert_eq!(
        polls(&mut watch, 2),
        [false, false],
        "nothing is swapped yet"
    );
    std::os::unix::fs::symlink("..2026_01_01_00_01_00.2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    std::fs::remove_dir_all(dir.join("..2026_01_01_00_00_00.1")).unwrap();

    // Assert
    assert_eq!(polls(&mut watch, 2), [false, true]);
    assert_eq!(
        std::fs::read_to_string(&rules).unwrap(),
        "[default]\ninstruction = \"reject\"\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_change_made_while_the_rules_are_read_is_still_a_change_afterwards() {
    let dir = folder("during");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[default]\ninstruction = \"accept\"\n").unwrap();
    let before = Snapshot::take(std::slice::from_ref(&rules));
    // Written after the snapshot, while (say) the loader was reading the older text.
    std::fs::write(&rules, "[default]\ninstruction = \"defer\"\n").unwrap();
    let mut watch = Watch::new(&before, vec![rules]);
    assert_eq!(polls(&mut watch, 2), [false, true]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_first_named_by_the_new_rules_is_watched_from_the_reload_on() {
    let dir = folder("new-file");
    let rules = dir.join("rules.toml");
    let map = dir.join("account_managers.csv");
    std::fs::write(&rules, "[default]\ninstruction = \"accept\"\n").unwrap();
    std::fs::write(&map, "key,value\n").unwrap();
    let before = Snapshot::take(std::slice::from_ref(&rules));
    let mut watch = Watch::new(&before, vec![rules, map.clone()]);
    assert_eq!(polls(&mut watch, 2), [false, false]);
    std::fs::write(&map, "key,value\n+15005550006,client:alice\n").unwrap();
    assert_eq!(polls(&mut watch, 2), [false, true]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rules_that_name_no_other_file_watch_the_rules_file_alone() {
    let dir = folder("paths");
    let rules_file = dir.join("rules.toml");
    std::fs::write(&rules_file, "[default]\ninstruction = \"accept\"\n").unwrap();
    let rules = crate::rules::load(&rules_file).unwrap();
    assert_eq!(paths(&rules_file, &rules), [rules_file]);
    let _ = std::fs::remove_dir_all(&dir);
}
