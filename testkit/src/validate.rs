//! docs/behaviour.md §6b: what `mode: validate` must answer, derived from what `mode: mutate`
//! answers for the same request, so that the two modes cannot drift.

use crate::admission::{AdmissionCase, Answer, Expect, check_every_case, dotted};
use crate::tables::expect_eq;

/// What `mode: validate` must answer, derived from what `mode: mutate` answers for the same request
/// (docs/behaviour.md §6b), so that the two modes cannot drift.
#[derive(Debug)]
pub enum ValidateExpect {
    /// Accepted without a mutation: mutate mode changes no image and adds no pull secret.
    Accept,
    /// Rejected in the same words as mutate mode.
    Reject(String),
    /// Rejected with a message that names each of these fields, and no other.
    RejectNaming(Vec<Named>),
}

/// A field a validate-mode rejection must name: the container or volume entry, and what must
/// follow it (`image "nginx" must be "…"`), or a missing pull secret.
#[derive(Debug)]
pub struct Named {
    /// `spec.containers[0]`; empty for a pull secret.
    pub entry: String,
    /// `spec.containers[0].image`, how an image outside a pod spec is named; empty for a pull
    /// secret.
    pub field: String,
    /// What the message says of it.
    pub says: String,
}

/// Derives the validate-mode answer from the mutate-mode answer for `object`.
pub fn validate_expectation(object: &serde_json::Value, mutate: &Expect) -> ValidateExpect {
    let changes = match mutate {
        Expect::Accept => return ValidateExpect::Accept,
        Expect::Reject(message) => return ValidateExpect::Reject(message.clone()),
        Expect::Changes(changes) => changes,
    };
    let mut named = Vec::new();
    for (pointer, new) in changes {
        // Every change but the metadata and the pull secrets is an image: in a container or
        // volume entry (`…/image`, `…/image/reference`), or a field of its own (`/spec/images/0`).
        let is_image = !pointer.starts_with("/metadata") && !pointer.ends_with("/imagePullSecrets");
        let entry = pointer.strip_suffix("/image/reference").or_else(|| pointer.strip_suffix("/image"));
        if let Some(entry) = entry.or(Some(pointer.as_str())).filter(|_| is_image) {
            let from = object.pointer(pointer).and_then(serde_json::Value::as_str).unwrap_or_default();
            let to = new.as_str().unwrap_or_default();
            named.push(Named {
                entry: dotted(entry),
                field: dotted(pointer),
                says: format!("image {from:?} must be {to:?}"),
            });
        } else if let Some(pod_spec) = pointer.strip_suffix("/imagePullSecrets") {
            let before = object.pointer(pointer).and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
            for secret in new.as_array().into_iter().flatten().filter(|entry| !before.contains(entry)) {
                let name = secret["name"].as_str().unwrap_or_default();
                let pod_spec = dotted(pod_spec);
                named.push(Named {
                    entry: String::new(),
                    field: String::new(),
                    says: format!("{pod_spec}.imagePullSecrets must list the secret {name:?}"),
                });
            }
        }
    }
    if named.is_empty() { ValidateExpect::Accept } else { ValidateExpect::RejectNaming(named) }
}

/// `Err` unless a validate-mode answer (`allowed`, its message, whether it mutated) is `expect`.
pub fn check_validate(
    expect: &ValidateExpect,
    allowed: bool,
    message: Option<&str>,
    mutated: bool,
) -> Result<(), String> {
    if mutated {
        return Err("validate mode mutated the object".to_owned());
    }
    match expect {
        ValidateExpect::Accept if allowed => Ok(()),
        ValidateExpect::Reject(expected) if !allowed => expect_eq("message", message, Some(expected.as_str())),
        ValidateExpect::RejectNaming(named) if !allowed => {
            let message = message.unwrap_or_default();
            for field in named {
                let found = if field.entry.is_empty() {
                    message.contains(&field.says)
                } else {
                    // The container or volume (`container "web" (spec.containers[0])` or
                    // `container spec.containers[0]`), or an image outside a pod spec by its field.
                    [
                        format!("{}): {}", field.entry, field.says),
                        format!("{}: {}", field.entry, field.says),
                        format!("{}: {}", field.field, field.says),
                    ]
                    .iter()
                    .any(|text| message.contains(text.as_str()))
                };
                if !found {
                    return Err(format!("the message does not name {} {}: {message}", field.entry, field.says));
                }
            }
            let fields = message.matches(" must be ").count() + message.matches(" must list the secret ").count();
            expect_eq("fields named", fields, named.len())
        }
        _ => Err(format!("allowed={allowed} ({message:?}), expected {expect:?}")),
    }
}

/// `settings` with `mode: validate`.
pub fn in_validate_mode(settings: &serde_json::Value) -> serde_json::Value {
    let mut settings = settings.clone();
    if let Some(object) = settings.as_object_mut() {
        object.insert("mode".to_owned(), serde_json::Value::from("validate"));
    }
    settings
}

/// docs/behaviour.md §6b on one host: every case of the admission table with its settings in validate
/// mode ([`in_validate_mode`]) must answer what the case's mutate-mode answer implies
/// ([`validate_expectation`]), and never mutate. `answer` evaluates the case's request with the
/// settings it is given and a registry that knows the case's lookups (checking that it asked the
/// same questions).
pub fn check_every_case_in_validate_mode(
    answer: impl Fn(&AdmissionCase, &serde_json::Value) -> Result<Answer, String>,
) {
    check_every_case(|case| {
        let (allowed, message, mutated) = answer(case, &in_validate_mode(&case.settings()))?;
        let object = case.request().get("object").cloned().unwrap_or_default();
        check_validate(&validate_expectation(&object, &case.expect()?), allowed, message.as_deref(), mutated.is_some())
    });
}
