//! SPEC §2 "Settings": the settings document → [`Settings`], with every problem reported.

use std::fmt;

use serde_json::{Map, Value};

use crate::map::MapError;
use crate::rules::Rules;
use crate::swap::DigestPolicy;

/// The key of the swap map.
pub const IMAGE_CHANGE: &str = "imageChange";
/// The key of the original-images annotation switch.
pub const RECORD_ORIGINAL_IMAGES: &str = "recordOriginalImages";
/// The key of the digest policy.
pub const DIGEST: &str = "digest";
/// Keys of SPEC §5 and §5b, accepted only with their default value until they are implemented.
pub const NOT_YET_SUPPORTED: [&str; 2] = ["imagePullSecrets", "checkTargetExists"];
/// The key a Palette pack wraps the settings in.
const PALETTE_WRAPPER: &str = "imageSwap";
const KNOWN_KEYS: [&str; 5] = [IMAGE_CHANGE, RECORD_ORIGINAL_IMAGES, DIGEST, "imagePullSecrets", "checkTargetExists"];

/// The policy's settings, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The parsed, indexed swap map.
    pub rules: Rules,
    /// Write the `imageswap.kubewarden.io/original-images` annotation (default true).
    pub record_original_images: bool,
    /// What a swap does with a digest (default keep).
    pub digest: DigestPolicy,
}

/// One problem with the settings document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// The document is not JSON; holds the parser's message.
    NotJson(String),
    /// The document is not an object.
    NotAnObject,
    /// A key this policy does not know; holds the key.
    UnknownKey(String),
    /// `imageChange` is missing.
    MissingMap,
    /// A key has a value of the wrong type: key and what it must be.
    WrongType(&'static str, &'static str),
    /// A key of a later version, given a value other than its default.
    NotYetSupported(&'static str),
    /// A bad line of the swap map.
    Map(MapError),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson(why) => write!(f, "settings are not a JSON document: {why}"),
            Self::NotAnObject => f.write_str("settings must be an object with the key imageChange"),
            Self::UnknownKey(key) if key == PALETTE_WRAPPER => f.write_str(
                "unknown key imageSwap: this looks like a Palette pack's `imageSwap:` block; put the keys inside it (imageChange: …) at the top level of the settings",
            ),
            Self::UnknownKey(key) => match KNOWN_KEYS.iter().find(|known| loose(known) == loose(key)) {
                Some(known) => write!(f, "unknown key {key}; did you mean {known}?"),
                None => write!(f, "unknown key {key}; the keys are {}", KNOWN_KEYS.join(", ")),
            },
            Self::MissingMap => f.write_str("imageChange is required: the swap map, one `key::target` rule per line"),
            Self::WrongType(key, expected) => write!(f, "{key} must be {expected}"),
            Self::NotYetSupported(key) => write!(f, "{key} is not yet supported by this version of the policy"),
            Self::Map(error) => write!(f, "imageChange {error}"),
        }
    }
}

/// A key compared loosely, for suggestions: lower case, without `_` and `-`.
fn loose(key: &str) -> String {
    key.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase()
}

/// Every problem found in a settings document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsErrors(pub Vec<SettingsError>);

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            error.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsErrors {}

impl Settings {
    /// Reads settings from the JSON document `validate_settings` receives.
    pub fn from_json(document: &[u8]) -> Result<Self, SettingsErrors> {
        let value: Value = serde_json::from_slice(document)
            .map_err(|e| SettingsErrors(vec![SettingsError::NotJson(e.to_string())]))?;
        Self::from_value(&value)
    }

    /// Reads settings from a parsed document. `null` counts as an empty object.
    pub fn from_value(document: &Value) -> Result<Self, SettingsErrors> {
        let empty = Map::new();
        let object = match document {
            Value::Object(object) => object,
            Value::Null => &empty,
            _ => return Err(SettingsErrors(vec![SettingsError::NotAnObject])),
        };
        let mut errors: Vec<SettingsError> = object
            .keys()
            .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
            .map(|key| SettingsError::UnknownKey(key.clone()))
            .collect();
        let present = |key: &str| object.get(key).filter(|v| !v.is_null());
        let record_original_images = match present(RECORD_ORIGINAL_IMAGES) {
            None => true,
            Some(Value::Bool(record)) => *record,
            Some(_) => {
                errors.push(SettingsError::WrongType(RECORD_ORIGINAL_IMAGES, "true or false"));
                true
            }
        };
        let digest = match present(DIGEST).map(Value::as_str) {
            None | Some(Some("keep")) => DigestPolicy::Keep,
            Some(Some("drop")) => DigestPolicy::Drop,
            Some(_) => {
                errors.push(SettingsError::WrongType(DIGEST, "keep or drop"));
                DigestPolicy::Keep
            }
        };
        for key in NOT_YET_SUPPORTED {
            let is_default = |v: &Value| v == &Value::Bool(false) || v.as_object().is_some_and(Map::is_empty);
            if present(key).is_some_and(|v| !is_default(v)) {
                errors.push(SettingsError::NotYetSupported(key));
            }
        }
        let rules = match present(IMAGE_CHANGE).map(Value::as_str) {
            None => {
                errors.push(SettingsError::MissingMap);
                None
            }
            Some(None) => {
                errors.push(SettingsError::WrongType(IMAGE_CHANGE, "a string (the swap map)"));
                None
            }
            Some(Some(map)) => match Rules::parse(map) {
                Ok(rules) => Some(rules),
                Err(map_errors) => {
                    errors.extend(map_errors.into_iter().map(SettingsError::Map));
                    None
                }
            },
        };
        match rules {
            Some(rules) if errors.is_empty() => Ok(Self { rules, record_original_images, digest }),
            _ => Err(SettingsErrors(errors)),
        }
    }
}
