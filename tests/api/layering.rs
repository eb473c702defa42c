//! The layering rule of `src/lib.rs`, checked against the sources: the middle (`callback/`,
//! `instruction/`, `rules/`) uses no web, network or database crate and only the modules
//! below it, no two top-level modules depend on each other around a loop, and each edge's
//! crate stays in its edge (the database client in `store/`, the HTTP client in `twilio/`).
//!
//! The sources are read as text: every `crate::name` and `super::…` path is resolved to the
//! top-level module it names, after comments are removed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Crates that belong at the edges only.
const EDGE_CRATES: &[&str] = &[
    "actix_web",
    "actix_http",
    "actix_rt",
    "reqwest",
    "hyper",
    "tokio",
    "tokio_postgres",
    "sqlx",
];

/// Crates that belong to one edge, and the only top-level modules that may name them.
const ONE_EDGE: &[(&str, &[&str])] = &[("sqlx", &["store"]), ("reqwest", &["twilio"])];

/// The pure middle, and the modules of ours each part may use.
const MIDDLE: &[(&str, &[&str])] = &[
    ("instruction", &[]),
    ("callback", &[]),
    ("rules", &["callback", "instruction"]),
    // Decision records: built from the rules' own trace, with no web, network or database.
    ("decisions", &["callback", "instruction", "rules"]),
];

/// One source file: its module path (`rules::expression::ast`) and its text, comments removed.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    code: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            Source {
                module: module_path(&root, &file),
                code: strip_comments(&text),
                file,
            }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `src/rules/expression/mod.rs` is `rules::expression`; `src/http/body.rs` is `http::body`;
/// `src/lib.rs` and `src/main.rs` are the crate root.
fn module_path(root: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text with `//` comments (doc comments included) and `/* */` blocks blanked out;
/// string literals are kept, since a path never hides in one.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut in_string = false;
    while let Some(c) = rest.chars().next() {
        if in_string {
            if rest.starts_with("\\\"") || rest.starts_with("\\\\") {
                out.push_str(&rest[..2]);
                rest = &rest[2..];
                continue;
            }
            in_string = c != '"';
        } else if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            rest = &rest[end..];
            continue;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |i| i + 2);
            rest = &rest[end..];
            continue;
        } else if c == '"' {
            in_string = true;
        } else if c == '\'' && rest[1..].starts_with("\"'") {
            // The character literal '"' opens no string.
            out.push_str("'\"'");
            rest = &rest[3..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether `word` appears in `code` as a whole identifier.
fn mentions(code: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The top-level modules of ours that `source` names, through `crate::x` or `super::…`.
fn uses(source: &Source, top_level: &BTreeSet<String>) -> BTreeSet<String> {
    let code = &source.code;
    let mut used = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(name) = leading_ident(&code[at + "crate::".len()..]) {
            used.insert(name);
        }
    }
    for (at, _) in code.match_indices("super::") {
        let before = &code[..at];
        if before.ends_with("super::")
            || before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let mut rest = &code[at..];
        let mut depth = 0;
        while let Some(next) = rest.strip_prefix("super::") {
            depth += 1;
            rest = next;
        }
        // A file's own module is its path; `super` is its parent.
        let Some(kept) = source.module.len().checked_sub(depth) else {
            continue;
        };
        match kept {
            0 => used.extend(leading_ident(rest)),
            _ => {
                used.insert(source.module[0].clone());
            }
        }
    }
    if let Some(own) = source.module.first() {
        used.remove(own);
    }
    // Only names of top-level modules count: an inline `mod tests` one level deeper makes
    // its `super::item` look like a path from the root.
    used.retain(|name| top_level.contains(name));
    used
}

fn leading_ident(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    Some(text[..end].to_owned())
}

/// The top-level modules: the first segment of every file's module path.
fn top_level(sources: &[Source]) -> BTreeSet<String> {
    sources
        .iter()
        .filter_map(|s| s.module.first().cloned())
        .collect()
}

/// Every breach of the middle's rules, one line each.
fn middle_breaches(sources: &[Source]) -> Vec<String> {
    let top_level = top_level(sources);
    let mut breaches = Vec::new();
    for source in sources {
        let Some(top) = source.module.first() else {
            continue;
        };
        let Some((_, allowed)) = MIDDLE.iter().find(|(name, _)| name == top) else {
            continue;
        };
        for edge in EDGE_CRATES {
            if mentions(&source.code, edge) {
                breaches.push(format!(
                    "{} uses `{edge}`: {top}/ must stay free of web, network and database crates",
                    source.file.display()
                ));
            }
        }
        if source.code.contains("crate::{") {
            breaches.push(format!(
                "{} imports `crate::{{…}}`: write one path per `use`, so that this test can \
                 read it",
                source.file.display()
            ));
        }
        for used in uses(source, &top_level) {
            if !allowed.contains(&used.as_str()) {
                breaches.push(format!(
                    "{} uses `crate::{used}`: {top}/ may use only {allowed:?}",
                    source.file.display()
                ));
            }
        }
    }
    breaches
}

/// Every use of a one-edge crate outside its edge, one line each.
fn edge_breaches(sources: &[Source]) -> Vec<String> {
    let mut breaches = Vec::new();
    for source in sources {
        let Some(top) = source.module.first() else {
            continue;
        };
        for (krate, edges) in ONE_EDGE {
            if !edges.contains(&top.as_str()) && mentions(&source.code, krate) {
                breaches.push(format!(
                    "{} uses `{krate}`: only {edges:?} may",
                    source.file.display()
                ));
            }
        }
    }
    breaches
}

/// A loop among the top-level modules, as `a -> b -> a`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle.join(" -> "));
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn module_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let top_level = top_level(sources);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let Some(top) = source.module.first() else {
            continue;
        };
        graph
            .entry(top.clone())
            .or_default()
            .extend(uses(source, &top_level));
    }
    graph
}

fn fake(module: &str, code: &str) -> Source {
    Source {
        file: PathBuf::from(format!("src/{}.rs", module.replace("::", "/"))),
        module: module.split("::").map(str::to_owned).collect(),
        code: strip_comments(code),
    }
}

#[test]
fn the_middle_uses_no_edge_crate_and_only_the_modules_below_it() {
    let breaches = middle_breaches(&sources());
    assert!(breaches.is_empty(), "\n{}", breaches.join("\n"));
}

#[test]
fn the_database_and_http_clients_stay_in_their_edges() {
    let breaches = edge_breaches(&sources());
    assert!(breaches.is_empty(), "\n{}", breaches.join("\n"));
}

#[test]
fn the_check_catches_the_database_client_outside_the_store() {
    let sources = [
        fake("outbox", "fn f() { let _ = sqlx::query(\"SELECT 1\"); }"),
        fake("store::updates", "use sqlx::Row;"),
    ];
    let breaches = edge_breaches(&sources);
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert!(
        breaches[0].contains("src/outbox.rs uses `sqlx`"),
        "{breaches:?}"
    );
}

#[test]
fn no_two_top_level_modules_depend_on_each_other_around_a_loop() {
    let graph = module_graph(&sources());
    // The reading found the dependencies it must: otherwise a loop could hide.
    assert!(graph["rules"].contains("callback"), "{graph:?}");
    assert!(graph["http"].contains("pipeline"), "{graph:?}");
    assert_eq!(find_cycle(&graph), None, "{graph:?}");
}

#[test]
fn the_check_catches_a_web_crate_in_the_rules() {
    let sources = [fake(
        "rules::file",
        "use actix_web::HttpResponse;\nfn f() { tokio::spawn(async {}); }",
    )];
    let breaches = middle_breaches(&sources);
    assert_eq!(breaches.len(), 2, "{breaches:?}");
    assert!(breaches[0].contains("`actix_web`"));
    assert!(breaches[1].contains("`tokio`"));
}

#[test]
fn the_check_catches_an_upward_import_in_the_middle() {
    let sources = [
        fake("instruction::inline", "use crate::rules::Rule;"),
        fake("callback::form", "fn f() { crate::pipeline::process(); }"),
        fake(
            "rules::expression::ast",
            "use super::super::super::http::body;",
        ),
        fake("pipeline", ""),
        fake("http::body", ""),
    ];
    let breaches = middle_breaches(&sources);
    assert_eq!(breaches.len(), 3, "{breaches:?}");
    assert!(breaches[0].contains("`crate::rules`"));
    assert!(breaches[1].contains("`crate::pipeline`"));
    assert!(breaches[2].contains("`crate::http`"));
}

#[test]
fn the_check_reads_past_comments_and_within_a_module() {
    let sources = [fake(
        "rules::mod",
        "// tokio is not used here\n/// see crate::http\nuse super::template;\nuse crate::rules::x;\nconst Q: char = '\"'; // crate::app",
    )];
    assert_eq!(middle_breaches(&sources), Vec::<String>::new());
}

#[test]
fn the_check_finds_a_loop() {
    let sources = [
        fake("app", "use crate::http::server;"),
        fake("http::server", "use crate::state::AppState;"),
        fake("state", "use crate::app::Application;"),
    ];
    assert_eq!(
        find_cycle(&module_graph(&sources)).as_deref(),
        Some("app -> http -> state -> app")
    );
}
