//! `imageswap explain` gives the policy's answers for the admission fixtures, with exit codes scripts can
//! rely on.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use std::process::Command;

use imageswap_testkit::{check_shown, run_all, shown_from, tool_cases, unread_kind, unreadable_object};
use serde_json::Value;

/// `imageswap explain ARGS…` from the repository root: exit status, stdout, stderr.
fn explain(args: &[&str]) -> (i32, String, String) {
    imageswap(&[&["explain"], args].concat())
}

#[test]
fn a_cluster_admission_policy_and_an_admission_review_give_the_policys_answers() {
    let (code, out, err) = explain(&[
        "--settings",
        "examples/seed-2-global-swap.yml",
        "--object",
        "tests/cases/requests/pod-create.json",
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let answers: Vec<Value> = serde_json::from_str(&out).unwrap();
    let new: Vec<Option<&str>> = answers.iter().map(|a| a["new"].as_str()).collect();
    assert_eq!(
        new,
        [
            Some("harbor.internal.example.com/library/nginx:1.25"),
            None,
            Some("harbor.internal.example.com/library/busybox"),
            Some("harbor.internal.example.com/org/data:1"),
        ]
    );
    assert_eq!(answers[1]["reason"], "registry/path key (longest match)");
    assert_eq!(answers[1]["line"], 2);
}

#[test]
fn a_decision_no_line_made_has_a_null_line_in_json() {
    let (code, out, err) =
        explain(&["--settings", "examples/seed-2-global-swap.yml", "--output", "json", "auto", "nginx"]);
    assert_eq!(code, 0, "{err}");
    let answers: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(answers[0]["step"], "IstioAuto");
    assert_eq!(answers[0]["line"], Value::Null);
    assert_eq!(answers[1]["line"], 1);
}

#[test]
fn the_cli_gives_the_policys_answers_for_the_admission_cases() {
    let scratch = std::env::temp_dir().join(format!("imageswap-explain-cases-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    run_all(
        &tool_cases(),
        |c| c.name.clone(),
        |case| {
            let (settings, object) = case.files(&scratch);
            let (settings, object) = (settings.display().to_string(), object.display().to_string());
            let (code, out, err) = explain(&["--settings", &settings, "--object", &object, "--output", "json"]);
            if let Some(kind) = unread_kind(case) {
                // The policy accepts such objects unchanged; the CLI says it has nothing to explain.
                imageswap_testkit::expect_eq("exit status", code, 2)?;
                let expected = format!("imageswap: {object}: the policy reads no images from an object of kind {kind}");
                return imageswap_testkit::expect_eq("message", err.lines().next(), Some(expected.as_str()));
            }
            if let Some(message) = unreadable_object(case) {
                // The policy rejects it; the CLI refuses it as bad input, in the same words.
                imageswap_testkit::expect_eq("exit status", code, 2)?;
                let expected = format!("imageswap: {object}: {message}");
                return imageswap_testkit::expect_eq("message", err.lines().next(), Some(expected.as_str()));
            }
            imageswap_testkit::expect_eq("exit status", code, if case.allowed { 0 } else { 1 })?;
            let answers: Vec<Value> = serde_json::from_str(&out).map_err(|e| format!("{e}: {out}{err}"))?;
            check_shown(case, &shown_from(&answers))
        },
    );
}

#[test]
fn text_output_names_the_rule_line_and_the_reason() {
    let (code, out, _) =
        explain(&["--settings", "tests/cases/settings/seed-3-exact.json", "example.private.io/demo:v1.0.0"]);
    assert_eq!(code, 0);
    assert_eq!(out, "example.private.io/demo:v1.0.0 -> gcr.io/google-samples/hello-app:1.0   ([EXACT] key, line 2)\n");
}

#[test]
fn an_image_that_cannot_be_decided_exits_1() {
    let (code, out, _) =
        explain(&["--settings", "tests/cases/settings/seed-2-global-swap.json", "nginx:-bad", "nginx"]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "nginx:-bad: \"nginx:-bad\" is not a valid image reference: invalid reference format\n\
         nginx -> harbor.internal.example.com/library/nginx   (default, line 1)\n"
    );
}

#[test]
fn bad_settings_exit_2_with_every_bad_line() {
    let (code, _, err) = explain(&["--settings", "tests/cases/settings/bad-map.json", "nginx"]);
    assert_eq!(code, 2);
    // The policy's own message (pinned by the settings table), after one line naming the file.
    let cases = imageswap_testkit::SettingsCase::all();
    let case = cases.iter().find(|c| c.settings_file.as_deref() == Some("settings/bad-map.json")).unwrap();
    let message = case.message.as_deref().unwrap();
    assert_eq!(
        err,
        format!("imageswap: the settings in tests/cases/settings/bad-map.json are not valid:\n{message}\n")
    );
}

/// `imageswap ARGS…` from the repository root: exit status, stdout, stderr.
fn imageswap(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_imageswap"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run imageswap");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[test]
fn every_flag_and_usage_error() {
    const SEED: &str = "tests/cases/settings/seed-2-global-swap.json";
    // (arguments, exit status, a text stdout or stderr must hold)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--help"], 0, "Usage: imageswap <COMMAND>"),
        (&["explain", "--help"], 0, "Usage: imageswap explain [OPTIONS] --settings <SETTINGS.yml>"),
        (&["migrate", "--help"], 0, "Usage: imageswap migrate [OPTIONS] <FILE>"),
        (&["--version"], 0, concat!("imageswap ", env!("CARGO_PKG_VERSION"))),
        (&[], 2, "Usage: imageswap <COMMAND>"),
        (&["nonsense"], 2, "unrecognized subcommand 'nonsense'"),
        (&["explain", "--settings"], 2, "a value is required for '--settings <SETTINGS.yml>'"),
        (&["explain", "nginx"], 2, "--settings <SETTINGS.yml>"),
        (&["explain", "--settings", SEED], 2, "<IMAGE>..."),
        (
            &["explain", "--settings", SEED, "--output", "yaml", "nginx"],
            2,
            "invalid value 'yaml' for '--output <OUTPUT>'",
        ),
        (
            &["explain", "--settings", SEED, "--output", "json", "nginx"],
            0,
            "\"new\": \"harbor.internal.example.com/library/nginx\"",
        ),
        (&["explain", "--settings", SEED, "-v"], 2, "unexpected argument '-v' found"),
        (&["explain", "--settings", SEED, "--", "-v"], 1, "\"-v\" is not a valid image reference"),
        (
            &["explain", "--settings", "tests/cases/settings/seed-2-check-target.json", "nginx"],
            0,
            "explain makes no lookups",
        ),
        (&["migrate"], 2, "<FILE>"),
        (&["migrate", "a", "b"], 2, "unexpected argument 'b' found"),
        (&["migrate", "no-such-file"], 2, "imageswap: cannot read no-such-file"),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(args, status, holds)| {
            let (code, out, err) = imageswap(args);
            (code != *status || !(out.contains(holds) || err.contains(holds))).then(|| {
                format!("{args:?}: exit {code}, expected {status} with {holds:?}; stdout {out:?} stderr {err:?}")
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explain_shows_the_pull_secrets_a_pod_would_get() {
    let (code, out, err) = explain(&[
        "--settings",
        "tests/cases/settings/seed-2-pull-secrets.json",
        "--object",
        "tests/cases/requests/pod-create.json",
    ]);
    assert_eq!(code, 0, "{err}");
    // nginx and busybox go to Harbor; the proxy stays on example.private.io.
    assert!(out.ends_with("spec.imagePullSecrets must list: harbor-pull, private-pull\n"), "{out}");
}

/// The notes `migrate` writes about lines of the map (or the whole map), in order.
fn notes(err: &str) -> Vec<&str> {
    err.lines().filter(|line| line.starts_with("note: line ") || line.starts_with("note: map: ")).collect()
}

fn migrate(input: &str) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("imageswap-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per call: tests run in parallel, and two inputs may have the same length.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("input-{call}.yaml"));
    std::fs::write(&path, input).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_imageswap")).arg("migrate").arg(&path).output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[test]
fn migrate_writes_this_versions_module_and_the_metadata_rules() {
    let (code, out, err) = migrate("default::harbor.example.com\n");
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_yaml::from_str(&out).unwrap();
    let metadata: Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policy-metadata.yml")).unwrap(),
    )
    .unwrap();
    let oci = metadata["annotations"]["io.kubewarden.policy.ociUrl"].as_str().unwrap();
    assert_eq!(policy["spec"]["module"], format!("registry://{oci}:v{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(policy["spec"]["rules"], metadata["rules"], "migrate's rules are not the metadata's");
}

#[test]
fn migrate_notes_the_noswap_entries_that_name_a_target() {
    let (code, _, err) =
        migrate("default::harbor.example.com/hub\nnoswap_wildcards::harbor.example.com, *-dev*, quay.io\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        notes(&err),
        [
            "note: line 2: noswap entry `harbor.example.com` names a target (its registry, or a path under it) and is now ignored: images under a target are left alone anyway, and as a substring it also exempted every image that merely contains that text"
        ]
    );
}

#[test]
fn migrate_turns_a_palette_block_into_a_policy_with_notes() {
    let (code, out, err) =
        migrate("imageSwap:\n  imageChange: |-\n    default::\n    localhost:5000::harbor.example.com/local\n");
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_yaml::from_str(&out).unwrap();
    assert_eq!(policy["kind"], "ClusterAdmissionPolicy");
    assert_eq!(policy["spec"]["settings"]["imageChange"], "default::\nlocalhost:5000::harbor.example.com/local");
    assert!(imageswap_engine::Settings::from_value(&policy["spec"]["settings"]).is_ok());
    assert!(
        err.starts_with("imageswap: ") && err.lines().next().unwrap().ends_with(": Palette imageSwap block"),
        "{err}"
    );
    assert_eq!(
        notes(&err),
        ["note: line 2: `localhost:5000` is now a registry (upstream needed a dot and never matched this key)"]
    );
}

#[test]
fn migrate_reads_the_upstream_configmap_and_notes_a_map_without_default() {
    let (code, out, err) = migrate(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: imageswap-maps\ndata:\n  maps: |\n    docker.io::harbor.example.com\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imageChange: |\n      docker.io::harbor.example.com"), "{out}");
    assert_eq!(
        notes(&err),
        [
            "note: line 1: one-word Docker Hub images now keep `library/` in the new reference (upstream dropped it for `nginx` but kept it for `docker.io/library/nginx`)",
            "note: map: the map has no `default` line: registry keys now apply anyway (upstream swapped nothing without one)",
        ]
    );
}

#[test]
fn migrate_refuses_a_map_the_policy_refuses() {
    let (code, out, err) = migrate("default::harbor.example.com\nbitnami::harbor.example.com/bitnami\n");
    assert_eq!(code, 1);
    assert!(out.is_empty(), "no policy is printed: {out}");
    assert!(
        err.contains("imageChange line 2 \"bitnami::harbor.example.com/bitnami\": key must start with a registry"),
        "{err}"
    );
}

#[test]
fn migrate_shows_the_old_and_the_new_result_of_images_that_change() {
    let (code, _, err) = migrate(
        "default::harbor.example.com\nlocalhost:5000::harbor.example.com/local\n[REPLACE]ghcr.io/example*::\ndocker.io::hub.example.com\n",
    );
    assert_eq!(code, 0, "{err}");
    let changes: Vec<&str> = err.lines().skip_while(|l| !l.starts_with("note: results that change")).skip(1).collect();
    for expected in [
        // Upstream took localhost for Docker Hub and prepended the docker.io target.
        "  localhost:5000/app:1: hub.example.com/localhost:5000/app:1 -> harbor.example.com/local/app:1   (line 2, registry/path key (longest match))",
        // Upstream kept only the last component for an empty [REPLACE] target.
        "  ghcr.io/exampleapp: exampleapp -> ghcr.io/exampleapp   (line 3, [REPLACE] glob)",
        // Upstream dropped library/ for one-word names only.
        "  nginx:1.25: hub.example.com/nginx:1.25 -> hub.example.com/library/nginx:1.25   (line 4, registry/path key (longest match))",
    ] {
        assert!(changes.contains(&expected), "missing {expected:?} in:\n{err}");
    }
    // Images whose result is the same are not listed.
    assert!(!changes.iter().any(|l| l.starts_with("  docker.io/library/nginx:1.25:")), "{err}");
}
