//! docs/behaviour.md §5 "When the target does not exist": with `checkTargetExists`, a swap happens
//! only when the host finds the target (and, with `platforms`, the target serves every listed
//! platform). The host answers Kubewarden's OCI capabilities through [`TargetLookup`], so the
//! policy glue, the runner and tests each bring their own; this module asks the questions, reads
//! the answers and sorts every failure into a [`Reason`].

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Kubewarden host capability of the `oci` namespace that the policy calls. In recorded
/// answers it is named as its operation, without `v1/` (`manifest_digest`, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub enum Capability {
    /// `oci/v1/manifest_digest`: `{"digest": "sha256:…"}`.
    #[default]
    #[serde(rename = "manifest_digest")]
    ManifestDigest,
    /// `oci/v1/oci_manifest`: the image manifest or image index.
    #[serde(rename = "oci_manifest")]
    Manifest,
    /// `oci/v1/oci_manifest_config`: `{"manifest", "digest", "config"}` of a single image.
    #[serde(rename = "oci_manifest_config")]
    ManifestConfig,
}

impl Capability {
    /// Every capability the module may call (what `policy-metadata.yml` must declare).
    pub const ALL: [Self; 3] = [Self::ManifestDigest, Self::Manifest, Self::ManifestConfig];

    /// The operation, as the waPC host call names it (`v1/manifest_digest`).
    pub const fn operation(self) -> &'static str {
        match self {
            Self::ManifestDigest => "v1/manifest_digest",
            Self::Manifest => "v1/oci_manifest",
            Self::ManifestConfig => "v1/oci_manifest_config",
        }
    }

    /// The capability an operation names, if the policy calls it.
    pub fn of_operation(operation: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|capability| capability.operation() == operation)
    }
}

/// One recorded answer of a registry (the case tables' `lookups`, the runner's `--registry`,
/// `imageswap explain --lookups`): for one capability and image, a digest, a JSON answer or the
/// host's error.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// The image asked about (the new reference, as built).
    pub image: String,
    /// The capability asked; `manifest_digest` when not given.
    #[serde(default, skip_serializing_if = "is_default")]
    pub capability: Capability,
    /// The digest, for a `manifest_digest` that found the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The JSON answer of the other capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// The host's error, when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_default(capability: &Capability) -> bool {
    *capability == Capability::ManifestDigest
}

impl Recorded {
    /// The answer as the host gives it: the JSON bytes, or the error.
    pub fn answer(&self) -> Result<Vec<u8>, String> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let value = match (&self.digest, &self.response) {
            (Some(digest), _) => serde_json::json!({ "digest": digest }),
            (None, Some(response)) => response.clone(),
            (None, None) => {
                return Err(format!("the recorded answer for {} has no digest, response or error", self.image));
            }
        };
        serde_json::to_vec(&value).map_err(|error| error.to_string())
    }
}

/// One call of a capability, for one image.
pub type Call = (Capability, String);

/// A registry that answers from recorded answers, and records what it was asked, in order.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    answers: Vec<Recorded>,
    /// Every call made, in order.
    pub asked: Vec<Call>,
}

impl Recording {
    /// A registry that knows `answers`.
    pub fn new(answers: Vec<Recorded>) -> Self {
        Self { answers, asked: Vec::new() }
    }

    /// The calls the answers were recorded for, in order (what a policy that asks the same
    /// questions asks).
    pub fn expected(&self) -> Vec<Call> {
        self.answers.iter().map(|answer| (answer.capability, answer.image.clone())).collect()
    }
}

impl TargetLookup for Recording {
    fn call(&mut self, capability: Capability, image: &str) -> Result<Vec<u8>, String> {
        self.asked.push((capability, image.to_owned()));
        match self.answers.iter().find(|answer| answer.capability == capability && answer.image == image) {
            Some(answer) => answer.answer(),
            None => Err(format!("{image} is not among the recorded answers for {}", capability.operation())),
        }
    }
}

/// Answers the OCI capabilities for one image: the host's JSON answer, or its error message.
pub trait TargetLookup {
    /// Calls `capability` for `image`.
    fn call(&mut self, capability: Capability, image: &str) -> Result<Vec<u8>, String>;
}

/// For hosts without registry access (tests, tools, fuzzing): every target exists, with a digest
/// of zeros, and serves no platform list. (With `checkTargetExists` off the policy asks no host.)
pub struct AssumeFound;

/// The digest [`AssumeFound`] gives every target.
pub const ASSUMED_DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

impl TargetLookup for AssumeFound {
    fn call(&mut self, capability: Capability, _image: &str) -> Result<Vec<u8>, String> {
        match capability {
            Capability::ManifestDigest => Ok(format!("{{\"digest\":\"{ASSUMED_DIGEST}\"}}").into_bytes()),
            _ => Err("this host answers manifest digests only".to_owned()),
        }
    }
}

/// An `os/arch[/variant]` platform (`platforms` setting).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `v7`, `v8`, …; `None` matches any variant.
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch` or `os/arch/variant`: two or three non-empty parts of ASCII lower-case
    /// letters, digits, `_`, `.` and `-`. `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = |part: &&str| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
        };
        let mut parts = text.split('/');
        let os = parts.next().filter(valid)?;
        let architecture = parts.next().filter(valid)?;
        let variant = match parts.next() {
            None => None,
            Some(variant) => Some(Some(variant).filter(valid)?.to_owned()),
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self { os: os.to_owned(), architecture: architecture.to_owned(), variant })
    }

    /// Whether an image for `image` (the platform a manifest or config names) serves this
    /// platform: the same OS and architecture and, when this platform names a variant, the same
    /// variant.
    fn served_by(&self, image: &Platform) -> bool {
        self.os == image.os
            && self.architecture == image.architecture
            && self.variant.as_ref().is_none_or(|variant| Some(variant) == image.variant.as_ref())
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(variant) => write!(f, "/{variant}"),
            None => Ok(()),
        }
    }
}

/// Why a target was not found (docs/behaviour.md §5 "Why not found").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The registry answered that the manifest does not exist.
    Missing,
    /// The target does not serve these platforms of the `platforms` setting.
    LacksPlatform(Vec<Platform>),
    /// 401 or 403: the policy-server has no credentials for that registry.
    Unauthorized,
    /// 429 or `TOOMANYREQUESTS`.
    RateLimited,
    /// The registry could not be reached: refused, DNS, TLS, timeout.
    Unreachable,
    /// Anything else.
    Failed,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing"),
            Self::LacksPlatform(platforms) => {
                f.write_str("lacks platform ")?;
                for (at, platform) in platforms.iter().enumerate() {
                    if at > 0 {
                        f.write_str(", ")?;
                    }
                    platform.fmt(f)?;
                }
                Ok(())
            }
            Self::Unauthorized => f.write_str("unauthorized"),
            Self::RateLimited => f.write_str("rate limited"),
            Self::Unreachable => f.write_str("unreachable"),
            Self::Failed => f.write_str("failed"),
        }
    }
}

/// The texts of a host error that sort it, tried in this order on the error in lower case (the
/// first match wins). Recorded from policy-server 1.36 against a real registry
/// (`tests/cases/lookup-errors.json` holds the texts and the reason each gets).
const REASON_TEXTS: [(&[&str], Reason); 4] = [
    (&["429", "toomanyrequests", "too many requests", "rate limit"], Reason::RateLimited),
    (
        &["401", "403", "unauthorized", "denied", "forbidden", "authentication required", "not authorized"],
        Reason::Unauthorized,
    ),
    (&["manifest unknown", "manifest_unknown", "name unknown", "name_unknown", "not found", "404"], Reason::Missing),
    (
        &[
            "error sending request",
            "connection refused",
            "connection reset",
            "dns error",
            "failed to lookup address",
            "timed out",
            "timeout",
            "tls",
            "certificate",
            "connect error",
            "unreachable",
        ],
        Reason::Unreachable,
    ),
];

impl Reason {
    /// Sorts a host error by its text.
    pub fn of_host_error(message: &str) -> Self {
        let lower = message.to_ascii_lowercase();
        let matched = REASON_TEXTS.iter().find(|(texts, _)| texts.iter().any(|text| lower.contains(text)));
        matched.map_or(Self::Failed, |(_, reason)| reason.clone())
    }
}

/// What looking up one target gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// Found, with the digest the registry gave for it.
    Found {
        /// `sha256:…`.
        digest: String,
    },
    /// Not found.
    NotFound {
        /// Why.
        reason: Reason,
        /// The first line of what the host said (empty when the host said nothing).
        said: String,
    },
}

/// A target that a lookup did not find (docs/behaviour.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The new reference that was looked up.
    pub target: String,
    /// Why it was not found.
    pub reason: Reason,
    /// The first line of what the host said.
    pub said: String,
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.target, self.reason)?;
        if !self.said.is_empty() {
            write!(f, " ({})", self.said)?;
        }
        Ok(())
    }
}

/// What trying the targets of an ordered list gives (docs/behaviour.md §5): the first one
/// found, by its place in the list and its reference, and every target before it, not found.
#[derive(Debug)]
pub(crate) struct Tried {
    /// The place of the target found in the list, and its reference (pinned, when asked).
    pub(crate) found: Option<(usize, String)>,
    /// The targets before it (all of them, when none was found), and why each was not found.
    pub(crate) misses: Vec<Miss>,
}

/// Asks `ask` about `references` in order until one is found; with `pin`, the digest its lookup
/// gave is appended to a reference that has none (docs/behaviour.md §5 "Digest pinning").
pub(crate) fn first_found<'r>(
    references: impl IntoIterator<Item = &'r str>,
    pin: bool,
    mut ask: impl FnMut(&str) -> Lookup,
) -> Tried {
    let mut misses = Vec::new();
    for (at, reference) in references.into_iter().enumerate() {
        match ask(reference) {
            Lookup::Found { digest } if pin && !reference.contains('@') => {
                return Tried { found: Some((at, format!("{reference}@{digest}"))), misses };
            }
            Lookup::Found { .. } => return Tried { found: Some((at, reference.to_owned())), misses },
            Lookup::NotFound { reason, said } => misses.push(Miss { target: reference.to_owned(), reason, said }),
        }
    }
    Tried { found: None, misses }
}

/// How much of a host's message a lookup keeps: its first line, at most this many characters.
const SAID_CHARS: usize = 300;

/// What the policy-server (and kwctl) put before a registry's error.
const HOST_PREFIXES: [&str; 3] =
    ["Host error: ", "Callback evaluation failure: ", "Fail to interact with OCI registry: "];

/// The first line of a host error, without the host's prefixes, shortened.
fn first_line(message: &str) -> String {
    let mut line = message.lines().next().unwrap_or_default();
    while let Some(rest) = HOST_PREFIXES.iter().find_map(|prefix| line.strip_prefix(prefix)) {
        line = rest;
    }
    line.chars().take(SAID_CHARS).collect()
}

/// A failed lookup: sorted from the host's error.
fn host_error(message: &str) -> Lookup {
    Lookup::NotFound { reason: Reason::of_host_error(message), said: first_line(message) }
}

/// An answer the policy cannot read: the lookup failed.
fn unreadable(what: &str) -> Lookup {
    Lookup::NotFound { reason: Reason::Failed, said: format!("the host's {what} answer cannot be read") }
}

/// Looks `image` up (docs/behaviour.md §5 "Found"): its manifest digest, and with `platforms`
/// its manifest (an index must list every platform) or, for a single image, its config (whose
/// platform must be the only one asked for).
pub fn look_up(host: &mut dyn TargetLookup, image: &str, platforms: &[Platform]) -> Lookup {
    let digest = match host.call(Capability::ManifestDigest, image) {
        Err(error) => return host_error(&error),
        Ok(answer) => match digest_of(&answer) {
            Some(digest) => digest,
            None => return unreadable("manifest digest"),
        },
    };
    if platforms.is_empty() {
        return Lookup::Found { digest };
    }
    let manifest: Value = match host.call(Capability::Manifest, image) {
        Err(error) => return host_error(&error),
        Ok(answer) => match serde_json::from_slice(&answer) {
            Ok(manifest) => manifest,
            Err(_) => return unreadable("manifest"),
        },
    };
    let served: Vec<Platform> = match manifest.get("manifests").and_then(Value::as_array) {
        Some(entries) => entries.iter().filter_map(|entry| platform_of(entry.get("platform")?)).collect(),
        None => match host.call(Capability::ManifestConfig, image) {
            Err(error) => return host_error(&error),
            Ok(answer) => {
                let config = serde_json::from_slice::<Value>(&answer).ok();
                match config.as_ref().and_then(|answer| platform_of(answer.get("config")?)) {
                    Some(platform) => vec![platform],
                    None => return unreadable("manifest config"),
                }
            }
        },
    };
    let lacking: Vec<Platform> =
        (platforms.iter()).filter(|wanted| !served.iter().any(|image| wanted.served_by(image))).cloned().collect();
    if lacking.is_empty() {
        Lookup::Found { digest }
    } else {
        let served: Vec<String> = served.iter().map(Platform::to_string).collect();
        let said = if served.is_empty() {
            "it lists no platform".to_owned()
        } else {
            format!("it serves {}", served.join(", "))
        };
        Lookup::NotFound { reason: Reason::LacksPlatform(lacking), said }
    }
}

/// The platform a manifest's `platform` or an image's config names (as written there, unchecked).
fn platform_of(value: &Value) -> Option<Platform> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(Platform {
        os: text("os")?,
        architecture: text("architecture")?,
        variant: text("variant").filter(|variant| !variant.is_empty()),
    })
}

/// The `digest` of a `manifest_digest` answer.
fn digest_of(answer: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(answer).ok()?;
    value.get("digest")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Every error text in `tests/cases/lookup-errors.json` (recorded from policy-server 1.36 and
    /// kwctl against a real registry, and the texts of earlier fixtures) sorts into its reason, and
    /// keeps the part after the host's prefixes.
    #[test]
    fn host_errors_sort_into_their_reasons() {
        let table: Vec<Value> = serde_json::from_str(include_str!("../../tests/cases/lookup-errors.json")).unwrap();
        assert!(table.len() >= 10, "the table lost its rows");
        let mut reasons = std::collections::BTreeSet::new();
        for row in &table {
            let error = row["error"].as_str().unwrap();
            let Lookup::NotFound { reason, said } = host_error(error) else { panic!("{error}") };
            assert_eq!(reason.to_string(), row["reason"].as_str().unwrap(), "{error}");
            if let Some(expected) = row.get("said") {
                assert_eq!(said, expected.as_str().unwrap(), "{error}");
            }
            reasons.insert(reason.to_string());
        }
        let every = ["missing", "unauthorized", "rate limited", "unreachable", "failed"];
        assert_eq!(reasons, every.iter().map(|r| (*r).to_owned()).collect(), "a reason has no row");
    }

    #[test]
    fn platforms_parse_as_two_or_three_parts() {
        let good = ["linux/amd64", "linux/arm64/v8", "windows/amd64", "linux/arm/v7", "linux/ppc64le"];
        for text in good {
            assert_eq!(Platform::parse(text).unwrap().to_string(), text);
        }
        let bad = ["linux", "linux/", "/amd64", "linux/amd64/", "linux/amd64/v8/x", "Linux/amd64", "linux/amd 64", ""];
        for text in bad {
            assert_eq!(Platform::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_platform_without_variant_is_served_by_any_variant() {
        let image = |text: &str| Platform::parse(text).unwrap();
        let arm64 = image("linux/arm64");
        assert!(arm64.served_by(&image("linux/arm64/v8")));
        assert!(arm64.served_by(&image("linux/arm64")));
        let v7 = image("linux/arm/v7");
        assert!(v7.served_by(&image("linux/arm/v7")));
        assert!(!v7.served_by(&image("linux/arm/v6")));
        assert!(!v7.served_by(&image("linux/arm")));
        assert!(!arm64.served_by(&image("linux/amd64")));
    }
}
