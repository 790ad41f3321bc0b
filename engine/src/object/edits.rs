//! The edits of a mutated object (docs/behaviour.md §4 to §6): the new images, the pull secrets
//! each pod spec lacks (§5b), and the original-images annotation (§6), made on the JSON object so
//! that nothing the policy does not own is dropped, reordered or added.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::bytes;
use crate::object::verdict::Rewrite;
use crate::object::walk::{self, Expected, ObjectError, ObjectErrorKind};
use crate::output::JsonBuffer;

/// The annotation that records the images this policy replaced.
pub(crate) const ORIGINAL_IMAGES_ANNOTATION: &str = "imageswap.kubewarden.io/original-images";

/// The secrets of `needed` that the `imagePullSecrets` of the pod spec at `at` does not list yet
/// (docs/behaviour.md §5b).
pub(crate) fn missing_pull_secrets<'n>(
    object: &Value,
    at: &str,
    needed: &[&'n str],
) -> Result<Vec<&'n str>, ObjectError> {
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    let listed = object.pointer(at).and_then(|spec| spec.get("imagePullSecrets")).filter(|list| !list.is_null());
    let entries = match listed {
        None => &[][..],
        Some(list) => {
            list.as_array().ok_or_else(|| ObjectError::wrong_type(&format!("{at}/imagePullSecrets"), Expected::List))?
        }
    };
    let listed = |secret: &str| entries.iter().any(|entry| entry.get("name").and_then(Value::as_str) == Some(secret));
    Ok(needed.iter().copied().filter(|secret| !listed(secret)).collect())
}

/// Writes the new images, the missing pull secrets of each pod spec and, when `originals` is
/// given, the original-images annotation: this evaluation's entries, merged into those of
/// `oldObject` on UPDATE (`Some(Some(..))`), alone on CREATE (`Some(None)`). A value the user
/// wrote is replaced.
pub(crate) fn apply(
    object: &mut Value,
    rewrites: &[Rewrite],
    originals: Option<Option<BTreeMap<String, String>>>,
    missing: &[(&str, Vec<&str>)],
) -> Result<(), ObjectError> {
    walk::write_images(object, rewrites, |rewrite| &rewrite.site, |rewrite| Value::String(rewrite.to.clone()));
    for (at, secrets) in missing {
        add_pull_secrets(object, at, secrets)?;
    }
    match originals {
        Some(previous) if !rewrites.is_empty() => record_originals(object, rewrites, previous.unwrap_or_default()),
        _ => Ok(()),
    }
}

/// Appends each secret to the `imagePullSecrets` of the pod spec at `at` (creating the list).
fn add_pull_secrets(object: &mut Value, at: &str, secrets: &[&str]) -> Result<(), ObjectError> {
    let Some(spec) = object.pointer_mut(at).and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let list = spec.entry("imagePullSecrets").or_insert(Value::Null);
    if list.is_null() {
        *list = Value::Array(Vec::new());
    }
    let entries = list
        .as_array_mut()
        .ok_or_else(|| ObjectError::wrong_type(&format!("{at}/imagePullSecrets"), Expected::List))?;
    entries.extend(secrets.iter().map(|secret| serde_json::json!({ "name": secret })));
    Ok(())
}

/// Writes `previous` with `key → original image` of every rewrite merged in as the annotation of
/// the object's own metadata.
fn record_originals(
    object: &mut Value,
    rewrites: &[Rewrite],
    mut originals: BTreeMap<String, String>,
) -> Result<(), ObjectError> {
    let not_object = |at: &str| ObjectError::wrong_type(at, Expected::Object);
    let root = object.as_object_mut().ok_or_else(|| ObjectError::wrong_type("", Expected::Object))?;
    let metadata = object_entry(root, "metadata").ok_or_else(|| not_object("/metadata"))?;
    let annotations = object_entry(metadata, "annotations").ok_or_else(|| not_object("/metadata/annotations"))?;
    let ours = entries(rewrites);
    // On CREATE there is nothing to merge into (and a large Pod has many entries).
    let text = if originals.is_empty() {
        // Written into a buffer of its size: `{"key":"image",…}`, more where a key needs escapes.
        let size = ours.iter().map(|(_, key, image)| key.len() + image.len() + 6).sum::<usize>() + 2;
        let mut text = JsonBuffer::with_capacity(size);
        serde_json::to_writer(&mut text, &Entries(&ours)).ok().and_then(|()| String::from_utf8(text.into_bytes()).ok())
    } else {
        originals.extend(ours.into_iter().map(|(_, key, image)| (key.into_owned(), image.to_owned())));
        serde_json::to_string(&originals).ok()
    };
    let text = text.ok_or(ObjectError { place: None, kind: ObjectErrorKind::Annotation })?;
    annotations.insert(ORIGINAL_IMAGES_ANNOTATION.to_owned(), Value::String(text));
    Ok(())
}

/// This evaluation's entries of the annotation, `key → original image`, sorted by key. A key this
/// evaluation wrote already (two pod specs of a custom resource with a container of the same
/// name) gives way to the field of the later image. A sort, not a tree: a large Pod has tens of
/// thousands of entries, and keys repeat only in such custom resources (or hostile requests).
fn entries(rewrites: &[Rewrite]) -> Vec<Original<'_>> {
    let mut sorted: Vec<Original<'_>> = rewrites
        .iter()
        .map(|rewrite| {
            let key = rewrite.key();
            (head_number(&key), key, rewrite.from())
        })
        .collect();
    sorted.sort_unstable_by(by_key);
    if !sorted.windows(2).any(|pair| matches!(pair, [(_, a, _), (_, b, _)] if a == b)) {
        return sorted;
    }
    let mut ours: BTreeMap<String, &str> = BTreeMap::new();
    for rewrite in rewrites {
        let key = rewrite.key().into_owned();
        let key = if ours.contains_key(&key) { rewrite.field() } else { key };
        ours.insert(key, rewrite.from());
    }
    ours.into_iter().map(|(key, image)| (head_number(&key), Cow::Owned(key), image)).collect()
}

/// An entry of the annotation: [`head_number`] of its key, its key and the original image.
type Original<'r> = (u64, Cow<'r, str>, &'r str);

/// The order of entries by their keys' text. By [`head_number`] first: most keys (container
/// names) differ in their first eight bytes, and a number compares faster than text. Keys equal
/// there (names a tenant chose to share a beginning) compare eight bytes at a time.
fn by_key((a, a_key, _): &Original<'_>, (b, b_key, _): &Original<'_>) -> Ordering {
    a.cmp(b).then_with(|| bytes::compare(a_key.as_bytes(), b_key.as_bytes()))
}

/// The first eight bytes of `text` as a big-endian number, zero-padded: numbers compare as the
/// texts' first eight bytes do (texts equal there compare by the rest).
fn head_number(text: &str) -> u64 {
    let mut head = [0; 8];
    for (slot, byte) in head.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
    u64::from_be_bytes(head)
}

/// Entries sorted by key, without repeats, serialised as a JSON object.
struct Entries<'e>(&'e [Original<'e>]);

impl serde::Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(_, key, image)| (key, image)))
    }
}

/// Whether [`record_originals`] can write the annotation: the object, its `metadata` and their
/// `annotations` are objects where present (read only, for validate mode).
pub(crate) fn annotations_writable(object: &Value, record: bool) -> Result<(), ObjectError> {
    if !record {
        return Ok(());
    }
    let root = object.as_object().ok_or_else(|| ObjectError::wrong_type("", Expected::Object))?;
    let metadata = match root.get("metadata") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(metadata)) => metadata,
        Some(_) => return Err(ObjectError::wrong_type("/metadata", Expected::Object)),
    };
    match metadata.get("annotations") {
        None | Some(Value::Null | Value::Object(_)) => Ok(()),
        Some(_) => Err(ObjectError::wrong_type("/metadata/annotations", Expected::Object)),
    }
}

/// The object under `key`, created when absent or `null`; `None` when it is something else.
fn object_entry<'m>(map: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Map<String, Value>> {
    let slot = map.entry(key.to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries ordered [`by_key`] are in the order of their keys' texts: for
    /// every pair of keys that are short, eight bytes long, longer, share a head, hold a NUL byte
    /// or a character of several bytes.
    #[test]
    fn entries_sort_by_key_as_by_their_keys_text() {
        let keys = [
            "",
            "a",
            "a\0",
            "a\0b",
            "c1",
            "c10",
            "c2",
            "init:a",
            "init:abcdefgh",
            "init:abcdefgi",
            "abcdefgh",
            "abcdefg",
            "abcdefgh0",
            "abcdefgi",
            "volume:x",
            "é",
            "éa",
            "z",
            "\u{7f}",
            "ÿ",
            "containers[0]",
            "containers[10]",
        ];
        for a in keys {
            for b in keys {
                let entry = |key: &'static str| (head_number(key), Cow::Borrowed(key), "");
                assert_eq!(by_key(&entry(a), &entry(b)), a.cmp(b), "{a:?} and {b:?}");
            }
        }
    }
}
