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
