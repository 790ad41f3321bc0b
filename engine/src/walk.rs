//! docs/behaviour.md §4 "Objects and fields": where the images of each handled kind live, and the walk that
//! finds them in a JSON object. The policy, the CLI and the playground all find images here.

use std::fmt;

use serde_json::Value;

/// Where the pod spec of each handled kind lives, by API group (`""` for the core group) and kind;
/// `None` for kinds the policy does not handle. A custom resource named `Pod` or `Deployment` in
/// another group is not one of them.
pub fn pod_spec_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    Some(match (group, kind) {
        ("", "Pod") => &["spec"],
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => &["spec", "template", "spec"],
        ("batch", "CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
        ("", "PodTemplate") => &["template", "spec"],
        _ => return None,
    })
}

/// The API group of an object's `apiVersion`: `apps` of `apps/v1`, `""` (the core group) of `v1`.
pub fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(group, _)| group)
}

/// An image-bearing list of a pod spec.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageList {
    /// Field name in the pod spec.
    field: &'static str,
    /// How messages name one entry.
    label: &'static str,
    /// Prefix of its annotation key.
    prefix: &'static str,
    /// Path from the entry to its image.
    image: &'static [&'static str],
}

/// `containers`.
pub const CONTAINERS: ImageList = ImageList { field: "containers", label: "container", prefix: "", image: &["image"] };
/// `initContainers`.
pub const INIT: ImageList =
    ImageList { field: "initContainers", label: "init container", prefix: "init:", image: &["image"] };
/// `ephemeralContainers`.
pub const EPHEMERAL: ImageList =
    ImageList { field: "ephemeralContainers", label: "ephemeral container", prefix: "ephemeral:", image: &["image"] };
/// `volumes[].image.reference` (image volumes).
pub const VOLUMES: ImageList =
    ImageList { field: "volumes", label: "image volume", prefix: "volume:", image: &["image", "reference"] };
/// Every image-bearing list of a pod spec.
pub const ALL_LISTS: [ImageList; 4] = [CONTAINERS, INIT, EPHEMERAL, VOLUMES];

/// A problem that makes the object unreadable or an image undecidable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    /// The container or volume, when the problem is in one: `container "web" (spec.containers[0])`.
    pub place: Option<String>,
    /// What is wrong: `spec.containers is not a list`.
    pub reason: String,
}

impl ObjectError {
    /// A problem with the object as a whole.
    pub fn unreadable(reason: String) -> Self {
        Self { place: None, reason }
    }
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => write!(f, "{place}: {}", self.reason),
            None => write!(f, "the object cannot be read: {}", self.reason),
        }
    }
}

/// One image found in an object. The names messages and the annotation use are made from it only
/// when they are needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundImage {
    /// The image as written.
    pub image: String,
    /// RFC 6901 pointer to the image string (`/spec/containers/0/image`).
    pub pointer: String,
    list: &'static ImageList,
    index: usize,
    name: Option<String>,
}

impl FoundImage {
    /// Where the image is, for messages and logs: `spec.containers[0].image`.
    pub fn field(&self) -> String {
        dotted(&self.pointer)
    }

    /// How messages name its container or volume: `container "web" (spec.containers[0])`.
    pub fn place(&self) -> String {
        place(self.list, self.name.as_deref(), self.entry_pointer())
    }

    /// Its key in the original-images annotation: `web`, `init:setup`, `volume:data`, or the list
    /// and index for an entry without a name (`containers[0]`).
    pub fn key(&self) -> String {
        match &self.name {
            Some(name) => format!("{}{name}", self.list.prefix),
            None => format!("{}{}[{}]", self.list.prefix, self.list.field, self.index),
        }
    }

    /// The pointer of the container or volume entry (the image pointer without its image steps).
    fn entry_pointer(&self) -> &str {
        let steps: usize = self.list.image.iter().map(|step| step.len() + 1).sum();
        self.pointer.get(..self.pointer.len().saturating_sub(steps)).unwrap_or_default()
    }
}

/// `container "web" (spec.containers[0])`, or `container spec.containers[0]` without a name.
fn place(list: &ImageList, name: Option<&str>, entry: &str) -> String {
    match name {
        Some(name) => format!("{} {name:?} ({})", list.label, dotted(entry)),
        None => format!("{} {}", list.label, dotted(entry)),
    }
}

/// `spec.containers[0].image` for the pointer `/spec/containers/0/image` (whose segments are field
/// names and indices; none needs escaping).
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(segment);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

/// "`<field>` is not `<what>`", or "it is not `<what>`" at the root.
pub fn is_not(pointer: &str, what: &str) -> String {
    if pointer.is_empty() { format!("it is not {what}") } else { format!("{} is not {what}", dotted(pointer)) }
}

/// Follows `steps` from `value` (at `pointer`): `None` when a step is absent or `null`; an error
/// when a value on the way is not an object.
fn follow<'v>(
    mut value: &'v Value,
    steps: &[&str],
    mut pointer: String,
) -> Result<Option<(&'v Value, String)>, ObjectError> {
    for step in steps {
        let object = value.as_object().ok_or_else(|| ObjectError::unreadable(is_not(&pointer, "an object")))?;
        match object.get(*step).filter(|v| !v.is_null()) {
            Some(next) => value = next,
            None => return Ok(None),
        }
        pointer.push('/');
        pointer.push_str(step);
    }
    Ok(Some((value, pointer)))
}

/// Every image of a document an operator tool was given: a Pod or workload, or an AdmissionReview
/// (its `request.object`, with the group and kind of `request.kind`). Returns the object's kind
/// with them; `Err` names a kind the policy reads no images from, or what makes the object
/// unreadable.
pub fn document_images(document: &Value) -> Result<(String, Vec<FoundImage>), String> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let (group, kind, object) = match document.get("kind").and_then(Value::as_str) {
        Some("AdmissionReview") => (
            text(document.pointer("/request/kind/group")),
            text(document.pointer("/request/kind/kind")),
            document.pointer("/request/object").unwrap_or(&Value::Null),
        ),
        _ => (group_of(&text(document.get("apiVersion"))).to_owned(), text(document.get("kind")), document),
    };
    if pod_spec_path(&group, &kind).is_none() {
        let named = if group.is_empty() { format!("{kind:?}") } else { format!("{kind:?} in the API group {group:?}") };
        return Err(format!("the policy reads no images from an object of kind {named}"));
    }
    let found = images(&group, &kind, object, &ALL_LISTS).map_err(|error| error.to_string())?;
    Ok((kind, found))
}

/// Every image of an object of `group` and `kind` in `lists`, in list order. `null` or missing means empty; a
/// value of the wrong type on the way is an error. Kinds the policy does not handle have none.
pub fn images(
    group: &str,
    kind: &str,
    object: &Value,
    lists: &'static [ImageList],
) -> Result<Vec<FoundImage>, ObjectError> {
    let Some(spec_path) = pod_spec_path(group, kind) else {
        return Ok(Vec::new());
    };
    let Some((spec, spec_at)) = follow(object, spec_path, String::new())? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for list in lists {
        let Some((entries, list_at)) = follow(spec, &[list.field], spec_at.clone())? else {
            continue;
        };
        let entries = entries.as_array().ok_or_else(|| ObjectError::unreadable(is_not(&list_at, "a list")))?;
        for (index, entry) in entries.iter().enumerate() {
            let entry_at = format!("{list_at}/{index}");
            if !entry.is_object() {
                return Err(ObjectError::unreadable(is_not(&entry_at, "an object")));
            }
            let name = entry.get("name").and_then(Value::as_str);
            let in_entry = |reason: String| ObjectError { place: Some(place(list, name, &entry_at)), reason };
            let Some((value, image_at)) =
                follow(entry, list.image, entry_at.clone()).map_err(|error| in_entry(error.reason))?
            else {
                continue;
            };
            let image = value.as_str().ok_or_else(|| in_entry(is_not(&image_at, "a string")))?;
            let name = name.map(str::to_owned);
            found.push(FoundImage { image: image.to_owned(), pointer: image_at, list, index, name });
        }
    }
    Ok(found)
}
