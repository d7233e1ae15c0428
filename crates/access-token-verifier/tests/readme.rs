//! The README's settings table is what `VerifierConfig::from_env` reads.

use std::collections::BTreeSet;

use access_token_verifier::config::SETTINGS;

#[test]
fn the_readme_lists_every_setting_the_config_reads_and_no_other() {
    let readme = include_str!("../README.md");
    let listed = test_issuer::settings_in_table(readme, "## Settings");
    let read: BTreeSet<String> = SETTINGS.iter().map(|name| name.to_string()).collect();
    assert_eq!(
        listed, read,
        "README.md's settings table and config::SETTINGS differ"
    );
}
