//! The grammar against distribution/reference's own answers, and the canonical forms of docs/behaviour.md §3.

use imageswap_engine::Image;
use imageswap_engine::RefErrorKind;
use imageswap_engine::testing::Reference;
use imageswap_testkit::{expect_eq, load, run_all};
use serde::Deserialize;

/// One row of `reference-vectors.json` (facts from running distribution/reference).
#[derive(Deserialize)]
struct Vector {
    /// The text given to `ParseNormalizedNamed`.
    input: String,
    /// Whether it parses.
    valid: bool,
    /// Normalised domain (valid rows).
    domain: String,
    /// Normalised path.
    path: String,
    /// Tag, empty when none.
    tag: String,
    /// Digest, empty when none.
    digest: String,
    /// Fully qualified, `:latest` added when neither tag nor digest.
    normalized: String,
    /// `FamiliarString` (valid rows).
    #[serde(default)]
    familiar: String,
    /// Upstream's error message (invalid rows).
    #[serde(default)]
    error: String,
}

/// The error kind that carries upstream's message.
fn expected_kind(error: &str) -> RefErrorKind {
    match error {
        e if e.contains("must be lowercase") => RefErrorKind::NotLowercase,
        e if e.contains("64-byte hexadecimal") => RefErrorKind::HexIdentifier,
        e if e.contains("digest length") => RefErrorKind::DigestLength,
        e if e.contains("digest format") => RefErrorKind::DigestFormat,
        e if e.contains("unsupported digest") => RefErrorKind::UnsupportedDigest,
        e if e.contains("more than 255") => RefErrorKind::NameTooLong,
        _ => RefErrorKind::InvalidFormat,
    }
}

fn check_vector(v: &Vector) -> Result<(), String> {
    let parsed = Reference::parse(&v.input);
    if !v.valid {
        let error = parsed.err().ok_or("parsed, but upstream rejects it")?;
        return expect_eq("error kind", error.kind, expected_kind(&v.error));
    }
    let r = parsed.map_err(|e| format!("rejected: {e}"))?;
    expect_eq("domain", r.domain(), v.domain.as_str())?;
    expect_eq("path", r.path(), v.path.as_str())?;
    expect_eq("tag", r.tag().unwrap_or_default(), v.tag.as_str())?;
    expect_eq("digest", r.digest().unwrap_or_default(), v.digest.as_str())?;
    let latest = if r.tag().is_none() && r.digest().is_none() { ":latest" } else { "" };
    expect_eq("normalized", format!("{r}{latest}"), v.normalized.clone())?;
    expect_eq("familiar", r.familiar(), v.familiar.clone())?;
    let again = Reference::parse(&r.to_string()).map_err(|e| format!("round trip: {e}"))?;
    expect_eq("parse → display → parse", again, r)
}

#[test]
fn reference_vectors() {
    run_all(&load::<Vector>("reference-vectors.json"), |v| format!("{:?}", v.input), check_vector);
}

/// One row of `canonical.json`: docs/behaviour.md §3's forms of an image, or the error kind when folding it
/// into canonical form makes it invalid.
#[derive(Deserialize)]
struct Canonical {
    input: String,
    #[serde(default)]
    canonical: String,
    #[serde(default)]
    familiar: String,
    #[serde(default)]
    forms: Vec<String>,
    #[serde(default)]
    error: Option<RefErrorKind>,
    /// The registry is one only through its upper-case letters (`Foo/bar`): its canonical text,
    /// in lower case, reads back as a Docker Hub name.
    #[serde(default)]
    registry_only_by_case: bool,
}

#[test]
fn canonical_and_familiar_forms() {
    run_all(
        &load::<Canonical>("canonical.json"),
        |c| c.input.clone(),
        |c| {
            let parsed = Image::parse(&c.input);
            if let Some(kind) = &c.error {
                let error = parsed.err().ok_or("folded, but the canonical form is invalid")?;
                return expect_eq("error kind", error.kind, *kind);
            }
            let image = parsed.map_err(|e| e.to_string())?;
            // Every canonical form is itself a valid image (what the `reference` fuzz target checks),
            // except that of a registry named only by its case.
            let reads_back = Image::parse(&image.canonical()).as_ref() == Ok(&image);
            expect_eq("canonical form parses back", reads_back, !c.registry_only_by_case)?;
            expect_eq("canonical", image.canonical(), c.canonical.clone())?;
            expect_eq("familiar", image.familiar(), c.familiar.clone())?;
            expect_eq("forms", image.forms().map(str::to_owned).collect::<Vec<_>>(), c.forms.clone())
        },
    );
}
