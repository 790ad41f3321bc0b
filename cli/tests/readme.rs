//! The README's `imageswap` examples are what the commands print: every `console` block that runs
//! the CLI is run, in a scratch folder that sees the repository's `examples/` and `tests/`,
//! and its output compared line by line (a line `...`, however indented, ends a shortened listing).

use std::path::Path;
use std::process::Command;

const CLI: &str = "cargo run -q -p imageswap-cli --";

/// The console blocks of the README that run the CLI: (commands, expected output lines).
fn examples(readme: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut examples = Vec::new();
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        if !block.contains(CLI) {
            continue;
        }
        let (mut commands, mut output) = (Vec::<String>::new(), Vec::new());
        let mut continued = false;
        for line in block.lines() {
            if let Some(command) = line.strip_prefix("$ ") {
                commands.push(command.trim_end_matches('\\').to_owned());
            } else if continued {
                if let Some(last) = commands.last_mut() {
                    last.push_str(line.trim_end_matches('\\'));
                }
            } else {
                output.push(line.to_owned());
            }
            continued = line.ends_with('\\');
        }
        examples.push((commands, output));
    }
    examples
}

#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 2, "the README shows {} CLI examples", examples.len());
    let scratch = std::env::temp_dir().join(format!("imageswap-readme-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for folder in ["examples", "tests"] {
        let link = scratch.join(folder);
        if !link.exists() {
            std::os::unix::fs::symlink(repo.join(folder).canonicalize().unwrap(), &link).unwrap();
        }
    }
    for (commands, expected) in examples {
        let script = commands.join("\n").replace(CLI, env!("CARGO_BIN_EXE_imageswap"));
        let run =
            Command::new("bash").arg("-c").arg(format!("set -e\n{script}")).current_dir(&scratch).output().unwrap();
        let printed = String::from_utf8(run.stderr).unwrap() + &String::from_utf8(run.stdout).unwrap();
        let printed: Vec<&str> = printed.lines().collect();
        let shown = expected.iter().position(|line| line.trim() == "...").unwrap_or(expected.len());
        let complete = shown == expected.len();
        assert!(run.status.success(), "{script}: exit {:?}", run.status.code());
        assert_eq!(&printed[..shown.min(printed.len())], &expected[..shown], "{script}");
        if complete {
            assert_eq!(printed.len(), expected.len(), "{script} prints more than the README shows: {printed:?}");
        } else {
            assert!(printed.len() > shown, "{script}: the README shortens a listing that is not longer");
        }
    }
}

/// Every settings document the README shows (a `yaml` block with `imageChange` or
/// `customResources` at the top) is accepted; a block of `customResources` alone is given a map.
#[test]
fn the_readme_settings_are_accepted() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```yaml\n").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        let Ok(serde_json::Value::Object(mut settings)) = serde_yaml::from_str(block) else { continue };
        if !settings.contains_key("imageChange") && !settings.contains_key("customResources") {
            continue;
        }
        settings.entry("imageChange").or_insert_with(|| "default::harbor.example.com".into());
        let document = serde_json::Value::Object(settings).to_string();
        if let Err(errors) = imageswap_engine::validate_settings(document.as_bytes()) {
            panic!("the README's settings are refused: {errors}\n{block}");
        }
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} settings blocks in the README");
}
