//! docs/behaviour.md §5 "When the target does not exist": with `checkTargetExists`, a swap happens only when
//! the host finds the target's manifest. The host answers through [`TargetLookup`], so the policy
//! glue, the runner and tests each bring their own.

/// What the host said about a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The target's manifest exists.
    Found,
    /// The registry says the target does not exist; holds the host's message.
    Missing(String),
    /// The lookup failed (registry down, no access); holds the host's message.
    Failed(String),
}

impl Lookup {
    /// Sorts a host error into [`Lookup::Missing`] (the registry answered that there is no such
    /// manifest) or [`Lookup::Failed`] (anything else).
    pub fn from_host_error(message: String) -> Self {
        let lower = message.to_ascii_lowercase();
        let missing = ["manifest unknown", "manifest_unknown", "not found", "404", "name unknown"];
        if missing.iter().any(|m| lower.contains(m)) { Self::Missing(message) } else { Self::Failed(message) }
    }
}

/// Answers whether an image exists (Kubewarden's `oci/v1/manifest_digest` host capability).
pub trait TargetLookup {
    /// Looks the image up.
    fn lookup(&mut self, image: &str) -> Lookup;
}

/// For hosts without registry access (tests, tools, fuzzing): every target is taken to exist.
/// (With `checkTargetExists` off the policy asks no host at all.)
pub struct AssumeFound;

impl TargetLookup for AssumeFound {
    fn lookup(&mut self, _image: &str) -> Lookup {
        Lookup::Found
    }
}
