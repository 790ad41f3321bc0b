//! What the operator tools (the `imageswap explain` CLI and the browser playground) show for one
//! image: the policy's own decision, with the rule line and the reason in words.

use std::fmt;

use serde::Serialize;

use crate::normalize::Image;
use crate::rules::Rules;
use crate::settings::Settings;
use crate::swap::{DigestPolicy, decide, placeholder};
use crate::walk::FoundImage;

/// The decision for one image, as the tools show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The image as written.
    pub image: String,
    /// Where the image is in an object (`spec.containers[0].image`), when it comes from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The new reference; `None` when the image is left as written (or cannot be decided).
    pub new: Option<String>,
    /// The rule line that decided (0 when no line did).
    pub line: usize,
    /// The step of docs/behaviour.md §3 (`Exact`, `Prefix`, …); empty when the image cannot be decided.
    pub step: String,
    /// Why, in words.
    pub reason: String,
    /// `digest: drop` kept the digest of an image pinned only by it.
    pub kept_digest: bool,
    /// Why the image cannot be decided (the policy rejects the request with this message).
    pub error: Option<String>,
}

/// Decides every image an object holds (found where the policy finds them), each with its field.
pub fn explain_found(rules: &Rules, digest: DigestPolicy, found: &[FoundImage]) -> Vec<Explanation> {
    found
        .iter()
        .map(|found| Explanation { field: Some(found.field()), ..explain(rules, digest, &found.image) })
        .collect()
}

/// Decides `image` as the policy does and says why.
pub fn explain(rules: &Rules, digest: DigestPolicy, image: &str) -> Explanation {
    match decide(rules, digest, image) {
        Ok(decision) => Explanation {
            image: image.to_owned(),
            field: None,
            new: decision.swapped.filter(|new| new != image),
            line: decision.line,
            step: format!("{:?}", decision.step),
            reason: decision.step.reason().to_owned(),
            kept_digest: decision.kept_digest,
            error: None,
        },
        Err(error) => Explanation {
            image: image.to_owned(),
            field: None,
            new: None,
            line: 0,
            step: String::new(),
            reason: String::new(),
            kept_digest: false,
            error: Some(error.to_string()),
        },
    }
}

impl Explanation {
    /// Whether the image could be decided.
    pub fn is_decided(&self) -> bool {
        self.error.is_none()
    }
}

impl fmt::Display for Explanation {
    /// `nginx (spec.containers[0].image) -> mirror.example.com/library/nginx   (default, line 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.image)?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        if let Some(error) = &self.error {
            return write!(f, ": {error}");
        }
        let rule = if self.line == 0 { String::new() } else { format!(", line {}", self.line) };
        match &self.new {
            Some(new) => write!(f, " -> {new}   ({}{rule})", self.reason),
            None => write!(f, " left as written   ({}{rule})", self.reason),
        }
    }
}

/// The pull secrets a pod spec holding these images must list once they are decided
/// (docs/behaviour.md §5b), in the order of first use: the secret of the registry each image ends
/// up on. Placeholders and images that cannot be decided need none.
pub fn pull_secrets<'s>(settings: &'s Settings, explanations: &[Explanation]) -> Vec<&'s str> {
    let mut secrets = Vec::new();
    for explanation in explanations.iter().filter(|e| e.is_decided() && placeholder(&e.image).is_none()) {
        let image = explanation.new.as_deref().unwrap_or(&explanation.image);
        let secret = Image::parse(image).ok().and_then(|image| settings.image_pull_secrets.get(image.registry()));
        if let Some(secret) = secret.filter(|secret| !secrets.contains(&secret.as_str())) {
            secrets.push(secret.as_str());
        }
    }
    secrets
}
