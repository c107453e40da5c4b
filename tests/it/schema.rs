//! The committed SDL matches the code.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = advice_log::graphql::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql is out of date; regenerate it with\n\n    \
         cargo run --quiet -- schema > schema/schema.graphql\n\nand commit it. Current schema:\n{current}"
    );
}
