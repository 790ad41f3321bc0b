//! The playground gives the policy's answers: for every admission case whose answer comes from the map
//! alone, the images it shows for the request's object are the ones the policy writes; for every
//! bad settings case, it names the same map lines.

use imageswap_playground::{example_list, run};
use imageswap_testkit::{SettingsCase, check_shown, run_all, shown_from, tool_cases, unread_kind, unreadable_object};
use serde_json::{Value, json};

#[test]
fn the_page_gives_the_policys_answers_for_the_admission_cases() {
    run_all(
        &tool_cases(),
        |c| c.name.clone(),
        |case| {
            let settings = case.settings();
            let request = case.review().to_string();
            let map = settings["imageChange"].as_str().unwrap_or_default();
            let kinds = settings.get("customResources").map_or_else(String::new, ToString::to_string);
            let answer = run(map, settings["digest"].as_str().unwrap_or("keep"), &kinds, &request);
            if let Some(kind) = unread_kind(case) {
                // The policy accepts such objects unchanged; the page says it reads no images there.
                let expected = format!("the policy reads no images from an object of kind {kind}");
                return imageswap_testkit::expect_eq(
                    "input error",
                    answer["inputError"].as_str(),
                    Some(expected.as_str()),
                );
            }
            if let Some(message) = unreadable_object(case) {
                // The policy rejects it; the page names the problem in the same words.
                return imageswap_testkit::expect_eq("input error", answer["inputError"].as_str(), Some(message));
            }
            imageswap_testkit::expect_eq("customResources problems", &answer["kindErrors"], &json!([]))?;
            if !answer["errors"].as_array().unwrap().is_empty() || !answer["inputError"].is_null() {
                return Err(format!("the page refuses the case: {answer}"));
            }
            check_shown(case, &shown_from(answer["results"].as_array().unwrap()))
        },
    );
}

#[test]
fn the_page_names_the_bad_map_lines_the_policy_names() {
    let cases = SettingsCase::all();
    let with_map_lines: Vec<&SettingsCase> =
        cases.iter().filter(|c| c.message.as_deref().is_some_and(|m| m.contains("imageChange line"))).collect();
    assert!(with_map_lines.len() >= 3);
    run_all(
        &with_map_lines,
        |c| c.name.clone(),
        |case| {
            let settings: Value = serde_json::from_slice(&case.document()).unwrap();
            let answer = run(settings["imageChange"].as_str().unwrap_or_default(), "keep", "", "nginx");
            let page: Vec<String> = answer["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| format!("imageChange {}", e["message"].as_str().unwrap()))
                .collect();
            let policy: Vec<String> = case
                .message
                .as_deref()
                .unwrap_or_default()
                .lines()
                .filter(|line| line.starts_with("imageChange line"))
                // The page has no checkTargetExists switch: it shows a list of targets as the
                // policy uses it with lookups on (each target in order), so the one map error that
                // depends on that setting is not the page's to show.
                .filter(|line| !line.contains("a list of targets needs `checkTargetExists: true`"))
                .map(str::to_owned)
                .collect();
            imageswap_testkit::expect_eq("map errors", page, policy)
        },
    );
}

#[test]
fn the_seed_examples_load_with_their_names() {
    let examples = example_list();
    let names: Vec<&str> =
        examples["examples"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Override a Specific Registry",
            "Apply a Global Swap with an Exception",
            "Swap a Specific Image",
            "Replace Image Path"
        ]
    );
    // Each example, with the sample images, is a valid map that swaps at least one of them.
    for example in examples["examples"].as_array().unwrap() {
        let answer = run(example["map"].as_str().unwrap(), "keep", "", examples["images"].as_str().unwrap());
        assert_eq!(answer["errors"], serde_json::json!([]), "{}", example["name"]);
        let swapped = answer["results"].as_array().unwrap().iter().filter(|r| r["new"].is_string()).count();
        assert!(swapped >= 1, "{}: no sample image is swapped: {answer}", example["name"]);
    }
}

#[test]
fn input_that_is_neither_images_nor_a_handled_object_is_named() {
    let answer = run("default::m.example.com", "keep", "", "kind: ConfigMap\ndata: {}");
    assert_eq!(answer["inputError"], "the policy reads no images from an object of kind \"ConfigMap\"");
    let answer = run("default::m.example.com", "keep", "", "kind: Pod\nspec:\n  containers: 7");
    assert_eq!(answer["inputError"], "the object cannot be read: spec.containers is not a list");
}
