//! docs/behaviour.md §4 "Objects and fields": the walk that finds the images of an object, given
//! where its kind keeps them ([`Layout`], the same for built-in kinds and `customResources`). The
//! policy, the CLI and the playground all find images here.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::object::kinds::{CustomResources, FieldPath, Layout, PathStep};

/// The API group of an object's `apiVersion`: `apps` of `apps/v1`, `""` (the core group) of `v1`.
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(group, _)| group)
}

/// An image-bearing list of a pod spec.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ImageList {
    /// Field name in the pod spec.
    field: &'static str,
    /// What one entry is.
    kind: EntryKind,
    /// Prefix of its annotation key.
    prefix: &'static str,
    /// Path from the entry to its image.
    image: &'static [&'static str],
}

impl ImageList {
    /// How many bytes the image's steps add to an entry's pointer (`/image`, `/image/reference`).
    fn image_steps_len(&self) -> usize {
        self.image.iter().map(|step| step.len() + 1).sum()
    }
}

/// `containers`.
pub(crate) const CONTAINERS: ImageList =
    ImageList { field: "containers", kind: EntryKind::Container, prefix: "", image: &["image"] };
/// `initContainers`.
pub(crate) const INIT: ImageList =
    ImageList { field: "initContainers", kind: EntryKind::InitContainer, prefix: "init:", image: &["image"] };
/// `ephemeralContainers`.
pub(crate) const EPHEMERAL: ImageList = ImageList {
    field: "ephemeralContainers",
    kind: EntryKind::EphemeralContainer,
    prefix: "ephemeral:",
    image: &["image"],
};
/// `volumes[].image.reference` (image volumes).
pub(crate) const VOLUMES: ImageList =
    ImageList { field: "volumes", kind: EntryKind::ImageVolume, prefix: "volume:", image: &["image", "reference"] };
/// Every image-bearing list of a pod spec.
pub(crate) const ALL_LISTS: [ImageList; 4] = [CONTAINERS, INIT, EPHEMERAL, VOLUMES];

/// What an entry of a pod spec's image-bearing list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// An entry of `containers`.
    Container,
    /// An entry of `initContainers`.
    InitContainer,
    /// An entry of `ephemeralContainers`.
    EphemeralContainer,
    /// An entry of `volumes` (an image volume).
    ImageVolume,
}

impl fmt::Display for EntryKind {
    /// How messages name it: `container`, `init container`, `ephemeral container`, `image volume`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Container => "container",
            Self::InitContainer => "init container",
            Self::EphemeralContainer => "ephemeral container",
            Self::ImageVolume => "image volume",
        })
    }
}

/// A container or volume entry of a pod spec; its `Display` is how messages name it:
/// `container "web" (spec.containers[0])`, or `container spec.containers[0]` without a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// What the entry is.
    pub kind: EntryKind,
    /// Its `name`, when it has one.
    pub name: Option<String>,
    /// Its RFC 6901 pointer (`/spec/containers/0`).
    pub pointer: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} {name:?} ({})", self.kind, dotted(&self.pointer)),
            None => write!(f, "{} {}", self.kind, dotted(&self.pointer)),
        }
    }
}

/// A problem that makes the object unreadable: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    /// The container or volume, when the problem is in one.
    pub place: Option<Place>,
    /// What is wrong.
    pub kind: ObjectErrorKind,
}

/// What makes an object unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectErrorKind {
    /// The value at this RFC 6901 pointer (`""`: the object itself) is not what the policy reads
    /// or writes there.
    WrongType {
        /// Where the value is: `/spec/containers`.
        pointer: String,
        /// What it must be.
        expected: Expected,
    },
    /// The original-images annotation cannot be written (serializing its entries failed).
    Annotation,
}

/// The JSON type a value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A JSON object.
    Object,
    /// A JSON array.
    List,
    /// A JSON string.
    String,
}

impl Expected {
    /// `an object`, `a list`, `a string`.
    fn words(self) -> &'static str {
        match self {
            Self::Object => "an object",
            Self::List => "a list",
            Self::String => "a string",
        }
    }
}

impl ObjectError {
    /// The value at `pointer` is not `expected`, outside any container.
    pub fn wrong_type(pointer: &str, expected: Expected) -> Self {
        Self { place: None, kind: ObjectErrorKind::WrongType { pointer: pointer.to_owned(), expected } }
    }
}

impl fmt::Display for ObjectErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongType { pointer, expected } if pointer.is_empty() => write!(f, "it is not {}", expected.words()),
            Self::WrongType { pointer, expected } => write!(f, "{} is not {}", dotted(pointer), expected.words()),
            Self::Annotation => f.write_str("the original-images annotation cannot be written"),
        }
    }
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => write!(f, "{place}: {}", self.kind),
            None => write!(f, "the object cannot be read: {}", self.kind),
        }
    }
}

impl std::error::Error for ObjectError {}

/// One image found in an object. The names messages and the annotation use are made from it only
/// when they are needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundImage {
    /// The image as written.
    pub image: String,
    /// RFC 6901 pointer to the image string (`/spec/containers/0/image`).
    pub pointer: String,
    /// The container or volume entry holding it; `None` for an image a kind's `images` path names.
    entry: Option<Entry>,
    /// Found in a kind of `customResources`.
    custom: bool,
}

/// The container or volume entry of a pod spec an image is in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    list: &'static ImageList,
    index: usize,
    name: Option<String>,
    /// The index of its pod spec in [`Found::pod_specs`].
    pod_spec: usize,
}

impl FoundImage {
    /// Where the image is, for messages and logs: `spec.containers[0].image`.
    pub fn field(&self) -> String {
        dotted(&self.pointer)
    }

    /// How messages name its container or volume: `container "web" (spec.containers[0])`; an
    /// image outside a pod spec by its field: `spec.steps[0].image`.
    pub fn place(&self) -> String {
        match &self.entry {
            Some(entry) => place(entry.list, entry.name.as_deref(), self.entry_pointer(entry)).to_string(),
            None => self.field(),
        }
    }

    /// Its key in the original-images annotation: `web`, `init:setup`, `volume:data`; for an entry
    /// without a name the list and index (`containers[0]`) in a built-in kind and the field
    /// (`spec.template.spec.containers[0].image`) in a custom resource; for an image outside a
    /// pod spec its field (`spec.steps[0].image`).
    /// A container's key is its name, borrowed (a large Pod has many).
    pub fn key(&self) -> Cow<'_, str> {
        match &self.entry {
            Some(Entry { list, name: Some(name), .. }) if list.prefix.is_empty() => Cow::Borrowed(name),
            Some(Entry { list, name: Some(name), .. }) => Cow::Owned(format!("{}{name}", list.prefix)),
            Some(Entry { list, index, name: None, .. }) if !self.custom => {
                Cow::Owned(format!("{}{}[{index}]", list.prefix, list.field))
            }
            _ => Cow::Owned(self.field()),
        }
    }

    /// The index in [`Found::pod_specs`] of the pod spec the image is in, if it is in one.
    pub fn pod_spec(&self) -> Option<usize> {
        self.entry.as_ref().map(|entry| entry.pod_spec)
    }

    /// Whether the image is in a kind of `customResources`, whose controller may substitute
    /// template expressions in it (docs/behaviour.md §4).
    pub fn in_custom_resource(&self) -> bool {
        self.custom
    }

    /// The pointer of the container or volume entry (the image pointer without its image steps).
    fn entry_pointer(&self, entry: &Entry) -> &str {
        let steps = entry.list.image_steps_len();
        self.pointer.get(..self.pointer.len().saturating_sub(steps)).unwrap_or_default()
    }

    /// The pointer of the list its entry is in (`/spec/containers`), when it is in one.
    fn list_pointer(&self) -> Option<&str> {
        let entry = self.entry.as_ref()?;
        Some(self.entry_pointer(entry).rsplit_once('/')?.0)
    }

    /// Whether its entry is in the same list as `other`'s (of the same pod spec).
    fn same_list(&self, other: &Self) -> bool {
        match (&self.entry, &other.entry) {
            (Some(mine), Some(theirs)) => mine.pod_spec == theirs.pod_spec && mine.list.field == theirs.list.field,
            _ => false,
        }
    }

    /// Its image field in `list`, the list its entry is in.
    fn slot_in<'l>(&self, list: &'l mut [Value]) -> Option<&'l mut Value> {
        let entry = self.entry.as_ref()?;
        let mut value = list.get_mut(entry.index)?;
        for step in entry.list.image {
            value = value.get_mut(*step)?;
        }
        Some(value)
    }
}

/// Writes `value(edit)` at the image field of `site(edit)` for each edit, sites found in `object`
/// by [`images`], as `Value::pointer_mut` with the site's pointer finds the field. Edits come in the
/// walk's order, so consecutive entries of one list are written after one look-up of the list (a
/// large Pod has many entries in one list, and a pointer costs a look-up per step).
pub(crate) fn write_images<E>(
    object: &mut Value,
    edits: &[E],
    site: impl Fn(&E) -> &FoundImage,
    value: impl Fn(&E) -> Value,
) {
    for group in edits.chunk_by(|a, b| site(a).same_list(site(b))) {
        let list_at = group.first().and_then(|edit| site(edit).list_pointer());
        match list_at.and_then(|at| object.pointer_mut(at)).and_then(Value::as_array_mut) {
            Some(list) => {
                for edit in group {
                    if let Some(slot) = site(edit).slot_in(list) {
                        *slot = value(edit);
                    }
                }
            }
            None => {
                for edit in group {
                    if let Some(slot) = object.pointer_mut(&site(edit).pointer) {
                        *slot = value(edit);
                    }
                }
            }
        }
    }
}

/// The [`Place`] of the entry of `list` at the pointer `entry`.
fn place(list: &ImageList, name: Option<&str>, entry: &str) -> Place {
    Place { kind: list.kind, name: name.map(str::to_owned), pointer: entry.to_owned() }
}

/// The most decimal digits of a `usize`.
const DECIMAL_DIGITS: usize = 20;

/// Appends `number` in decimal, without the formatting machinery `format!` goes through.
fn push_decimal(out: &mut String, number: usize) {
    let mut digits = [0u8; DECIMAL_DIGITS];
    let mut rest = number;
    let mut start = DECIMAL_DIGITS;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
        start -= 1;
        if rest == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(digits.get(start..).unwrap_or_default()).unwrap_or_default());
}

/// `spec.containers[0].image` for the pointer `/spec/containers/0/image` (whose segments are field
/// names and indices; none needs escaping).
pub(crate) fn dotted(pointer: &str) -> String {
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

/// The field `name` of `value` (at `pointer`): `None` when it is absent or `null`; an error when
/// `value` is not an object. The one rule of every field step of the walk.
fn field<'v>(value: &'v Value, name: &str, pointer: &str) -> Result<Option<&'v Value>, ObjectError> {
    let object = value.as_object().ok_or_else(|| ObjectError::wrong_type(pointer, Expected::Object))?;
    Ok(object.get(name).filter(|child| !child.is_null()))
}

/// Follows `steps` from `value` (at `pointer`): `None` when a step is absent or `null`; an error
/// when a value on the way is not an object.
fn follow<'v>(
    mut value: &'v Value,
    steps: &[&str],
    mut pointer: String,
) -> Result<Option<(&'v Value, String)>, ObjectError> {
    for step in steps {
        match field(value, step, &pointer)? {
            Some(next) => value = next,
            None => return Ok(None),
        }
        pointer.push('/');
        pointer.push_str(step);
    }
    Ok(Some((value, pointer)))
}

/// Every value `path` leads to from `root`, with its pointer, in document order: a missing or
/// `null` field, and a `null` list item, lead nowhere; a value of the wrong type on the way is an
/// error naming it.
fn expand<'v>(root: &'v Value, path: &FieldPath) -> Result<Vec<(&'v Value, String)>, ObjectError> {
    let mut reached = vec![(root, String::new())];
    for step in path.steps() {
        let mut next = Vec::with_capacity(reached.len());
        for (value, at) in reached {
            match step {
                PathStep::Field(name) => {
                    if let Some(child) = field(value, name, &at)? {
                        next.push((child, format!("{at}/{name}")));
                    }
                }
                PathStep::Each => {
                    let items = value.as_array().ok_or_else(|| ObjectError::wrong_type(&at, Expected::List))?;
                    let present = items.iter().enumerate().filter(|(_, item)| !item.is_null());
                    next.extend(present.map(|(index, item)| (item, format!("{at}/{index}"))));
                }
            }
        }
        reached = next;
    }
    Ok(reached)
}

/// The images of an object and the pod specs they are in.
#[derive(Debug, Default)]
pub struct Found {
    /// Every image, in the order of the layout's paths, and of the lists within each pod spec.
    pub sites: Vec<FoundImage>,
    /// The pointer of every pod spec found (`/spec/template/spec`).
    pub pod_specs: Vec<String>,
}

/// Every image of a document an operator tool was given: a Pod, workload or custom resource the
/// settings name, or an AdmissionReview (its `request.object`, with the group and kind of
/// `request.kind`). Returns the object's kind with them; `Err` names a kind the policy reads no
/// images from, or what makes the object unreadable.
pub fn document_images(document: &Value, custom: &CustomResources) -> Result<(String, Found), DocumentError> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let (group, kind, object) = if is_review(document.get("kind")) {
        (
            text(document.pointer("/request/kind/group")),
            text(document.pointer("/request/kind/kind")),
            document.pointer("/request/object").unwrap_or(&Value::Null),
        )
    } else {
        (group_of(&text(document.get("apiVersion"))).to_owned(), text(document.get("kind")), document)
    };
    let Some(layout) = custom.layout(&group, &kind) else {
        return Err(DocumentError::UnreadKind { group, kind });
    };
    let found = images(object, &layout, &ALL_LISTS).map_err(DocumentError::Object)?;
    Ok((kind, found))
}

/// Whether a document's `kind` says it is an AdmissionReview.
fn is_review(kind: Option<&Value>) -> bool {
    kind.and_then(Value::as_str) == Some("AdmissionReview")
}

/// The AdmissionRequest of a document that holds an AdmissionReview (`null` when it has none),
/// or the document itself, a bare AdmissionRequest: what the hosts and tools are given.
pub fn admission_request(document: Value) -> Value {
    match document {
        Value::Object(mut review) if is_review(review.get("kind")) => review.remove("request").unwrap_or(Value::Null),
        other => other,
    }
}

/// Why a document given to an operator tool yields no images.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentError {
    /// A kind the policy reads no images from (it accepts such objects unchanged).
    UnreadKind {
        /// Its API group (`""`: the core group).
        group: String,
        /// Its kind.
        kind: String,
    },
    /// The object cannot be read (the policy rejects it with this message).
    Object(ObjectError),
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnreadKind { group, kind } if group.is_empty() => {
                write!(f, "the policy reads no images from an object of kind {kind:?}")
            }
            Self::UnreadKind { group, kind } => {
                write!(f, "the policy reads no images from an object of kind {kind:?} in the API group {group:?}")
            }
            Self::Object(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for DocumentError {}

/// Every image of an object laid out as `layout` says: in each pod spec the lists of `lists`, in
/// order, then each image path. `null` or missing means empty; a value of the wrong type on the
/// way is an error.
pub(crate) fn images(object: &Value, layout: &Layout<'_>, lists: &'static [ImageList]) -> Result<Found, ObjectError> {
    let mut found = Found::default();
    for path in layout.pod_specs {
        for (spec, spec_at) in expand(object, path)? {
            let pod_spec = found.pod_specs.len();
            found.pod_specs.push(spec_at.clone());
            pod_spec_images(spec, spec_at, pod_spec, layout.custom, lists, &mut found.sites)?;
        }
    }
    for path in layout.images {
        for (value, image_at) in expand(object, path)? {
            let image = value.as_str().ok_or_else(|| ObjectError::wrong_type(&image_at, Expected::String))?;
            found.sites.push(FoundImage {
                image: image.to_owned(),
                pointer: image_at,
                entry: None,
                custom: layout.custom,
            });
        }
    }
    Ok(found)
}

/// The images in the lists of one pod spec (at `spec_at`, the `pod_spec`th found).
fn pod_spec_images(
    spec: &Value,
    spec_at: String,
    pod_spec: usize,
    custom: bool,
    lists: &'static [ImageList],
    found: &mut Vec<FoundImage>,
) -> Result<(), ObjectError> {
    for list in lists {
        let Some((entries, list_at)) = follow(spec, &[list.field], spec_at.clone())? else {
            continue;
        };
        let entries = entries.as_array().ok_or_else(|| ObjectError::wrong_type(&list_at, Expected::List))?;
        let image_steps = list.image_steps_len();
        // Most entries hold an image: the sites grow once per list, not by doubling.
        found.reserve(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            // The entry's pointer, made once with room for the image's steps (a large Pod has
            // many entries): `follow` extends it to the image's pointer.
            let mut entry_at = String::with_capacity(list_at.len() + 1 + DECIMAL_DIGITS + image_steps);
            entry_at.push_str(&list_at);
            entry_at.push('/');
            push_decimal(&mut entry_at, index);
            if !entry.is_object() {
                return Err(ObjectError::wrong_type(&entry_at, Expected::Object));
            }
            let name = entry.get("name").and_then(Value::as_str);
            let in_entry = |kind: ObjectErrorKind| ObjectError {
                place: Some(place(list, name, &format!("{list_at}/{index}"))),
                kind,
            };
            let Some((value, image_at)) = follow(entry, list.image, entry_at).map_err(|error| in_entry(error.kind))?
            else {
                continue;
            };
            let image = value.as_str().ok_or_else(|| {
                in_entry(ObjectErrorKind::WrongType { pointer: image_at.clone(), expected: Expected::String })
            })?;
            let entry = Entry { list, index, name: name.map(str::to_owned), pod_spec };
            found.push(FoundImage { image: image.to_owned(), pointer: image_at, entry: Some(entry), custom });
        }
    }
    Ok(())
}

/// The walk's pointers lead where the object's images are, and decimals are written as `Display`
/// writes them.
#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        let mut numbers: Vec<usize> = (0..=1100).collect();
        numbers.extend((1..20).map(|digits| 10usize.pow(digits) - 1).chain((1..20).map(|digits| 10usize.pow(digits))));
        numbers.push(usize::MAX);
        for number in numbers {
            let mut out = "/spec/containers/".to_owned();
            push_decimal(&mut out, number);
            assert_eq!(out, format!("/spec/containers/{number}"));
        }
    }

    /// Every request of the admission case (inline and in files), with the custom resources the
    /// cases' settings name.
    fn case_objects() -> (Vec<Value>, CustomResources) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/");
        let table: Vec<Value> = serde_json::from_str(include_str!("../../../tests/cases/admission.json")).unwrap();
        let mut requests: Vec<Value> = Vec::new();
        for case in &table {
            match case.get("request") {
                Some(Value::String(file)) => {
                    let text = std::fs::read_to_string(format!("{dir}{file}")).unwrap();
                    requests.push(admission_request(serde_json::from_str(&text).unwrap()));
                }
                Some(request) => requests.push(request.clone()),
                None => {}
            }
        }
        let settings: Value =
            serde_json::from_str(include_str!("../../../tests/cases/settings/custom-resources.json")).unwrap();
        let mut errors = Vec::new();
        let custom =
            CustomResources::read(settings.get("customResources"), crate::object::kinds::Entries::All, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        (requests, custom)
    }

    #[test]
    fn images_are_written_where_their_pointers_lead() {
        let (requests, custom) = case_objects();
        let mut written = 0;
        for request in &requests {
            let text = |pointer: &str| request.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
            let Some(object) = request.get("object") else { continue };
            let Some(layout) = custom.layout(text("/kind/group"), text("/kind/kind")) else { continue };
            let Ok(found) = images(object, &layout, &ALL_LISTS) else { continue };
            let edits: Vec<(usize, &FoundImage)> = found.sites.iter().enumerate().collect();
            let new = |(number, _): &(usize, &FoundImage)| Value::String(format!("edited-{number}"));
            let (mut mine, mut theirs) = (object.clone(), object.clone());
            write_images(&mut mine, &edits, |(_, site)| site, new);
            for edit in &edits {
                *theirs.pointer_mut(&edit.1.pointer).unwrap() = new(edit);
                assert_eq!(mine.pointer(&edit.1.pointer), Some(&new(edit)), "{}", edit.1.pointer);
                written += 1;
            }
            assert_eq!(mine, theirs);
        }
        assert!(written > 100, "the cases lost their images: {written}");
    }
}
