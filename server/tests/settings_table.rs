//! The README's one settings table ("Configuration") lists exactly what the
//! server reads: every variable the settings parsers ask for (recorded through the
//! lookup they all read from), and nothing else. Also: no code outside the
//! settings parsers reads a variable by name.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use server::settings::{Settings, READ_BY_LIBRARIES, SETTINGS};

fn names(lists: &[&[&str]]) -> BTreeSet<String> {
    lists
        .iter()
        .flat_map(|list| list.iter().map(|name| name.to_string()))
        .collect()
}

/// Every name the server's start-up asks for (`log_format`, then
/// `Settings::from_lookup`, as `main` calls them), given `vars`.
fn asked_for(vars: &[(&str, &str)]) -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let lookup = |name: &str| {
        asked.borrow_mut().insert(name.to_owned());
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    server::settings::log_format(lookup);
    Settings::from_lookup(lookup).expect("these settings are valid");
    asked.into_inner()
}

#[test]
fn the_readme_table_lists_what_the_code_reads_and_nothing_else() {
    let declared = names(&[
        access_token_verifier::config::SETTINGS,
        app::config::SETTINGS,
        SETTINGS,
    ]);
    // What the parsers really ask for (not just what they declare).
    let asked = asked_for(&[
        ("AUTH0_CONFIG", "/nonexistent/auth_config.json"),
        ("AUTH0_DOMAIN", "t.auth0.com"),
        ("AUTH0_AUDIENCE", "https://api"),
    ]);
    assert_eq!(
        asked, declared,
        "the settings parsers read other variables than their SETTINGS lists declare"
    );

    let readme = include_str!("../../README.md");
    let table = test_issuer::settings_in_table(readme, "## Configuration");
    let mut expected = declared;
    expected.extend(names(&[READ_BY_LIBRARIES]));
    let missing: Vec<_> = expected.difference(&table).collect();
    let stale: Vec<_> = table.difference(&expected).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "README \"Configuration\" table: missing {missing:?}, listed but read by nothing {stale:?}"
    );
}

/// `std::env::var("NAME")` outside the settings modules would be a setting no
/// table and no parser knows about.
#[test]
fn only_the_settings_modules_read_the_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let allowed = [
        "server/src/settings.rs",
        "crates/access-token-verifier/src/config.rs",
    ];
    let mut offenders = Vec::new();
    for dir in ["server/src", "app/src", "crates/access-token-verifier/src"] {
        visit(&root.join(dir), &mut |path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            let reads = text.contains("env::var(\"") || text.contains("env::var_os(\"");
            if reads && !allowed.contains(&relative.as_str()) {
                offenders.push(relative);
            }
        });
    }
    assert!(
        offenders.is_empty(),
        "reading variables by name: {offenders:?}"
    );
}

fn visit(dir: &Path, found: &mut impl FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found(&path);
        }
    }
}
