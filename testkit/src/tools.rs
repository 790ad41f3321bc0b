//! What the operator tools (the CLI and the playground) must show for the admission cases whose
//! answer comes from their images' decisions alone.

use crate::admission::AdmissionCase;
use crate::tables::{expect_eq, fixture};

/// What an operator tool showed for one image of an object: its field, and its new image or its
/// error.
pub struct Shown {
    /// `spec.containers[0].image`.
    pub field: String,
    /// The new image; `None` when left as written.
    pub new: Option<String>,
    /// Why the image cannot be decided.
    pub error: Option<String>,
}

/// Whether an admission case's answer comes from the decisions of its images alone, so that a tool that
/// decides images (the CLI, the playground) must give it: a CREATE or UPDATE with an object, no
/// subresource, valid settings in mutate mode without registry answers (`checkTargetExists`), and
/// a rejection only for an image that cannot be decided or an object whose images cannot be read
/// (not for what the policy writes besides images: the annotation, the pull secrets).
pub fn tool_case(case: &AdmissionCase) -> bool {
    let request = case.request();
    let operation = request["operation"].as_str().unwrap_or_default();
    let settings = case.settings();
    let Ok(checked) = imageswap_engine::Settings::from_value(&settings) else { return false };
    let rejected_for_an_image = || match imageswap_engine::document_images(&case.review(), &checked.custom_resources) {
        Ok((_, found)) => imageswap_engine::explain_found(&checked.rules, checked.digest, &found)
            .iter()
            .any(|explained| !explained.is_decided()),
        Err(imageswap_engine::DocumentError::Object(_)) => true,
        Err(_) => false,
    };
    matches!(operation, "CREATE" | "UPDATE")
        && request.get("subResource").is_none_or(serde_json::Value::is_null)
        && request.get("object").is_some_and(|o| !o.is_null())
        && settings.get("checkTargetExists").is_none()
        && settings.get("mode").is_none_or(|mode| mode == "mutate")
        && (case.allowed || rejected_for_an_image())
}

/// The admission case an operator tool must answer as the policy does ([`tool_case`]).
pub fn tool_cases() -> Vec<AdmissionCase> {
    let cases: Vec<AdmissionCase> = serde_json::from_value(fixture("admission.json")).unwrap();
    let cases: Vec<AdmissionCase> = cases.into_iter().filter(tool_case).collect();
    assert!(cases.len() >= 15, "only {} cases decide from the map alone", cases.len());
    cases
}

/// How the tools name the kind of an admission case's object when they read no images from it
/// (`"ConfigMap"`, `"Rollout" in the API group "example.com"`), or `None` when the policy reads
/// that kind with the case's settings.
pub fn unread_kind(case: &AdmissionCase) -> Option<String> {
    // The tools read an AdmissionReview's object with the group and kind of `request.kind`.
    let request = case.request();
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let group = request["kind"]["group"].as_str().unwrap_or_default();
    let kinds = imageswap_engine::Settings::custom_resources_of(&case.settings(), group, kind);
    match kinds.layout(group, kind) {
        Some(_) => None,
        None if group.is_empty() => Some(format!("{kind:?}")),
        None => Some(format!("{kind:?} in the API group {group:?}")),
    }
}

/// The rejection of an admission case whose object the policy cannot read, a value of the wrong type on
/// the way to an image (which the tools refuse as bad input, exit status 2), if it is one.
pub fn unreadable_object(case: &AdmissionCase) -> Option<&str> {
    let kinds = imageswap_engine::Settings::from_value(&case.settings()).ok()?.custom_resources;
    let unreadable = matches!(
        imageswap_engine::document_images(&case.review(), &kinds),
        Err(imageswap_engine::DocumentError::Object(_))
    );
    if unreadable { case.message.as_deref() } else { None }
}

/// What a tool showed, from its JSON explanations (`field`, `new`, `error`).
pub fn shown_from(results: &[serde_json::Value]) -> Vec<Shown> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    results
        .iter()
        .map(|r| Shown { field: text(&r["field"]).unwrap_or_default(), new: text(&r["new"]), error: text(&r["error"]) })
        .collect()
}

/// `/spec/containers/0/image` for `spec.containers[0].image`.
pub fn pointer_of(field: &str) -> String {
    field.replace('[', ".").replace(']', "").split('.').map(|s| format!("/{s}")).collect()
}

/// Checks what a tool showed for an admission case's object against the policy's answer: every image
/// the policy changes shows its new image, every other image is left as written, and a rejected
/// case shows an image error that the policy's message names.
pub fn check_shown(case: &AdmissionCase, shown: &[Shown]) -> Result<(), String> {
    let image_changes: Vec<&String> =
        case.changes.keys().filter(|p| p.ends_with("/image") || p.ends_with("/image/reference")).collect();
    for pointer in &image_changes {
        if !shown.iter().any(|s| &&pointer_of(&s.field) == pointer) {
            return Err(format!("the policy changes {pointer}, which the tool does not show"));
        }
    }
    if !case.allowed {
        let message = case.message.clone().unwrap_or_default();
        return match shown.iter().find_map(|s| s.error.as_ref()) {
            Some(error) if message.contains(error.as_str()) => Ok(()),
            Some(error) => Err(format!("tool error {error:?} is not in the policy's message {message:?}")),
            None => Err(format!("the policy rejects ({message}); the tool shows no error")),
        };
    }
    for s in shown {
        let expected = case.changes.get(&pointer_of(&s.field)).and_then(|v| v.as_str()).map(str::to_owned);
        expect_eq(&s.field, (s.new.clone(), s.error.clone()), (expected, None))?;
    }
    Ok(())
}
