//! Requests derived from the mutating admission cases (an UPDATE of the swapped object, the same
//! object in another group, its first swapped image broken or removed), with what each must answer.

use crate::admission::{AdmissionCase, Answer, Expect, dotted, expected_object};
use crate::tables::{fixture, run_all};

/// What a variant derived from a mutating admission case must answer ([`variants`]).
#[derive(Debug)]
pub enum Derived {
    /// Accepted without a mutation.
    Accept,
    /// Rejected with a message holding each of these texts.
    RejectNaming(Vec<String>),
    /// Not rejected, and if mutated, nothing written at this pointer.
    Leaves(String),
}

/// A request derived from an admission case, with what it must answer.
pub struct Variant {
    /// The case's name and the variant's.
    pub name: String,
    /// The AdmissionRequest.
    pub request: serde_json::Value,
    /// The settings document.
    pub settings: serde_json::Value,
    /// What it must answer.
    pub expect: Derived,
}

/// Variants of every admission case that swaps an image on CREATE (the ready custom resources among
/// them), each a rule of docs/behaviour.md §4 applied to that kind: the swapped object sent back
/// as an UPDATE is accepted unchanged (idempotent); its first swapped image made unparseable is
/// rejected naming its place; made a number, rejected naming its field; removed, skipped; and the
/// same object in another API group is accepted unchanged.
pub fn variants(cases: &[AdmissionCase]) -> Vec<Variant> {
    use serde_json::{Value, json};
    let mut variants = Vec::new();
    for case in cases {
        let Ok(Expect::Changes(changes)) = case.expect() else { continue };
        let request = case.request();
        if request["operation"] != "CREATE" || !request["subResource"].is_null() || !case.lookups.is_empty() {
            continue;
        }
        let settings = case.settings();
        let original = request["object"].clone();
        let variant = |name: &str, request: Value, expect: Derived| Variant {
            name: format!("{}/{name}", case.name),
            request,
            settings: settings.clone(),
            expect,
        };
        let Ok(swapped) = expected_object(&original, &changes) else { continue };
        let mut update = request.clone();
        update["operation"] = json!("UPDATE");
        update["object"] = swapped.clone();
        update["oldObject"] = swapped;
        variants.push(variant("update_of_the_swapped_object", update, Derived::Accept));
        let mut elsewhere = request.clone();
        elsewhere["kind"]["group"] = json!("imageswap.example");
        elsewhere["object"]["apiVersion"] = json!("imageswap.example/v1");
        variants.push(variant("same_kind_in_another_group", elsewhere, Derived::Accept));
        let Some(pointer) = changes.keys().find(|p| p.ends_with("/image") || p.ends_with("/image/reference")) else {
            continue;
        };
        let entry =
            pointer.strip_suffix("/image/reference").or_else(|| pointer.strip_suffix("/image")).unwrap_or(pointer);
        let with = |value: Option<Value>| {
            let mut request = request.clone();
            let (parent, last) = pointer.rsplit_once('/').unwrap_or_default();
            if let Some(Value::Object(members)) = request["object"].pointer_mut(parent) {
                match value {
                    Some(value) => members.insert(last.to_owned(), value),
                    None => members.remove(last),
                };
            }
            request
        };
        let bad = "\"nginx:-bad\" is not a valid image reference: invalid reference format".to_owned();
        variants.push(variant(
            "swapped_image_unparseable",
            with(Some(json!("nginx:-bad"))),
            Derived::RejectNaming(vec![dotted(entry), bad]),
        ));
        let not_a_string = format!("{} is not a string", dotted(pointer));
        variants.push(variant(
            "swapped_image_a_number",
            with(Some(json!(7))),
            Derived::RejectNaming(vec![not_a_string]),
        ));
        variants.push(variant("swapped_image_absent", with(None), Derived::Leaves(pointer.clone())));
    }
    variants
}

/// Runs every [`variants`] of the admission table through `answer` (one host) and checks each answer.
pub fn check_variants(answer: impl Fn(&Variant) -> Result<Answer, String>) {
    let cases: Vec<AdmissionCase> = serde_json::from_value(fixture("admission.json")).unwrap();
    let variants = variants(&cases);
    assert!(variants.len() >= 100, "only {} variants", variants.len());
    run_all(
        &variants,
        |v| v.name.clone(),
        |variant| {
            let (allowed, message, mutated) = answer(variant)?;
            variant.expect.check(allowed, message.as_deref(), mutated.as_ref())
        },
    );
}

impl Derived {
    /// `Err` unless an answer (`allowed`, its message, the mutated object if any) is this one.
    pub fn check(
        &self,
        allowed: bool,
        message: Option<&str>,
        mutated: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        match self {
            Self::Accept if allowed && mutated.is_none() => Ok(()),
            Self::RejectNaming(texts) if !allowed => {
                let message = message.unwrap_or_default();
                match texts.iter().find(|text| !message.contains(text.as_str())) {
                    Some(missing) => Err(format!("the rejection does not name {missing:?}: {message}")),
                    None => Ok(()),
                }
            }
            Self::Leaves(pointer) if allowed => match mutated.and_then(|object| object.pointer(pointer)) {
                Some(value) => Err(format!("wrote {value} at {pointer}, which was absent")),
                None => Ok(()),
            },
            _ => Err(format!("allowed={allowed} ({message:?}), mutated={}, expected {self:?}", mutated.is_some())),
        }
    }
}
