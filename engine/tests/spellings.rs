//! Every spelling of an image is decided alike (docs/behaviour.md §3), and look-alike images are not caught.

use imageswap_engine::DigestPolicy;
use imageswap_engine::Image;
use imageswap_engine::Rules;
use imageswap_engine::Step;
use imageswap_engine::testing::decide;
use imageswap_testkit::{expect_eq, load, run_all};
use serde::Deserialize;

#[derive(Deserialize)]
struct SpellingGroup {
    name: String,
    map: String,
    /// Spellings of one image.
    spellings: Vec<String>,
    /// The new image of one spelling, compared by identity (a missing tag counts as `latest`).
    expect: Option<String>,
    step: String,
    /// The deciding line; absent or `null` when no line decides.
    line: Option<usize>,
}

#[test]
fn every_spelling_is_decided_alike() {
    run_all(
        &load::<SpellingGroup>("spellings.json"),
        |g| g.name.clone(),
        |group| {
            let rules = Rules::parse(&group.map).map_err(|e| format!("{e:?}"))?;
            let expected = group.expect.as_deref().map(|e| Image::parse(e).unwrap().exact_id());
            for spelling in &group.spellings {
                let decision = decide(&rules, DigestPolicy::Keep, spelling).map_err(|e| format!("{spelling}: {e}"))?;
                let got = decision
                    .swapped
                    .as_deref()
                    .map(|s| Image::parse(s).map(|i| i.exact_id()).map_err(|e| e.to_string()));
                let got = got.transpose()?;
                expect_eq(&format!("{spelling}: result"), got, expected.clone())?;
                expect_eq(&format!("{spelling}: step"), decision.step.as_str(), group.step.as_str())?;
                expect_eq(&format!("{spelling}: line"), decision.line.map(|line| line.get()), group.line)?;
            }
            Ok(())
        },
    );
}

#[derive(Deserialize)]
struct NonMatch {
    name: String,
    map: String,
    image: String,
}

#[test]
fn look_alike_images_are_not_caught() {
    run_all(
        &load::<NonMatch>("non-matches.json"),
        |c| c.name.clone(),
        |case| {
            let rules = Rules::parse(&case.map).map_err(|e| format!("{e:?}"))?;
            let decision = decide(&rules, DigestPolicy::Keep, &case.image).map_err(|e| e.to_string())?;
            expect_eq("step", decision.step, Step::NoRule)
        },
    );
}
