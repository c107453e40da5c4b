//! Dependencies point down (README, Layout): the domain is pure, and
//! nothing below the API knows axum, async-graphql or the API's modules.
//! Read from the source itself, so a new import that points up fails here.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The code lines of a file that mention any of `words` (comments skipped).
fn offending(path: &Path, words: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read a source file");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| words.iter().any(|w| line.contains(w)))
        .map(|line| format!("{}: {}", path.display(), line.trim()))
        .collect()
}

fn check(folders: &[&str], words: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    folders
        .iter()
        .flat_map(|folder| {
            let path = root.join(folder);
            if path.is_dir() {
                sources(&path)
            } else {
                vec![path]
            }
        })
        .flat_map(|file| offending(&file, words))
        .collect()
}

#[test]
fn the_domain_is_pure() {
    let found = check(
        &["domain"],
        &[
            "crate::store",
            "crate::app",
            "crate::read",
            "crate::projection",
            "crate::assurance",
            "crate::http",
            "crate::graphql",
            "sqlx",
            "tokio",
            "axum",
            "async_graphql",
        ],
    );
    assert!(
        found.is_empty(),
        "the domain reaches out:\n{}",
        found.join("\n")
    );
}

#[test]
fn nothing_below_the_api_knows_the_api() {
    let found = check(
        &[
            "domain",
            "store",
            "projection",
            "assurance",
            "erasure",
            "secret_file.rs",
            "read",
            "app",
            "metrics.rs",
            "auth.rs",
            "clock.rs",
            "demo.rs",
        ],
        &[
            "axum",
            "async_graphql",
            "crate::http",
            "crate::graphql",
            "crate::server",
            "crate::cli",
        ],
    );
    assert!(
        found.is_empty(),
        "a lower layer points up:\n{}",
        found.join("\n")
    );
}

/// The top-level modules of `src` (folders and files, but not the crate
/// roots) and, for each, the others its code names as `crate::<module>`.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&root).expect("read src") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
        if module && name != "lib" && name != "main" {
            modules.insert(name, path);
        }
    }
    let names: Vec<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, path)| {
            let files = if path.is_dir() {
                sources(path)
            } else {
                vec![path.clone()]
            };
            let mut uses = std::collections::BTreeSet::new();
            for file in files {
                let text = std::fs::read_to_string(&file).expect("read a source file");
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    for other in &names {
                        if other != name && line.contains(&format!("crate::{other}")) {
                            uses.insert(other.clone());
                        }
                    }
                }
            }
            (name.clone(), uses)
        })
        .collect()
}

#[test]
fn no_cycle_between_top_level_modules() {
    let graph = module_graph();
    assert!(graph.contains_key("store") && graph.contains_key("app"));
    // Peel off modules that use nothing left; whatever remains is in a cycle.
    let mut left = graph.clone();
    loop {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, uses)| uses.iter().all(|u| !left.contains_key(u)))
            .map(|(name, _)| name.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            left.remove(&leaf);
        }
    }
    assert!(
        left.is_empty(),
        "these top-level modules depend on each other in a cycle: {left:?}"
    );
    // And the layers named in README's layout point down.
    for (module, forbidden) in [
        ("store", &["projection", "read", "app", "assurance"][..]),
        ("projection", &["app", "assurance"][..]),
        ("read", &["projection", "app", "assurance"][..]),
        ("backend", &["app"][..]),
        ("metrics", &["http", "store"][..]),
    ] {
        let uses = &graph[module];
        for up in forbidden {
            assert!(!uses.contains(*up), "{module} uses {up}");
        }
    }
}
