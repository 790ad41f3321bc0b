//! Images: the reference grammar ([`reference`]), the canonical and familiar forms imageswap
//! compares ([`normalize`]), the globs of `[REPLACE]` and `noswap_wildcards` ([`glob`]), and the
//! placeholders step 0 leaves alone before anything is parsed.

pub(crate) mod glob;
pub(crate) mod normalize;
pub(crate) mod reference;

/// Istio's injection placeholder.
pub const ISTIO_AUTO: &str = "auto";

/// A placeholder: an image text that another tool fills in, left alone before every rule (step 0
/// of docs/behaviour.md §3) and needing no pull secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placeholder {
    /// Empty or blank (spaces and tabs only), as OpenShift's image triggers write it.
    Blank,
    /// Exactly [`ISTIO_AUTO`], which Istio's injector replaces with its proxy image.
    IstioAuto,
}

/// The placeholder `written` is, if it is one.
pub fn placeholder(written: &str) -> Option<Placeholder> {
    if written.bytes().all(|b| b == b' ' || b == b'\t') {
        Some(Placeholder::Blank)
    } else if written == ISTIO_AUTO {
        Some(Placeholder::IstioAuto)
    } else {
        None
    }
}
