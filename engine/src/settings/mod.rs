//! docs/behaviour.md §2 "Settings": the settings document → [`Settings`], with every problem reported.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::lookup::Platform;
use crate::map::lex::{MapError, MapErrorKind};
use crate::map::relevance::Relevance;
use crate::map::rules::Rules;
use crate::map::targets::{Prefix, PrefixError};
use crate::object::kinds::{CustomResourceError, CustomResources, Entries, MAX_SUBDOMAIN_LEN, is_dns_subdomain};
use crate::swap::DigestPolicy;

/// The key of the swap map.
pub(crate) const IMAGE_CHANGE: &str = "imageChange";
/// The key of the original-images annotation switch.
pub(crate) const RECORD_ORIGINAL_IMAGES: &str = "recordOriginalImages";
/// The key of the digest policy.
pub(crate) const DIGEST: &str = "digest";
/// The key of the registry → pull secret map (docs/behaviour.md §5b).
pub(crate) const IMAGE_PULL_SECRETS: &str = "imagePullSecrets";
/// The key of the missing-target fallback (docs/behaviour.md §5).
pub(crate) const CHECK_TARGET_EXISTS: &str = "checkTargetExists";
/// The key of the platforms a found target must serve (docs/behaviour.md §5).
pub(crate) const PLATFORMS: &str = "platforms";
/// The key of the lookup budget of one request (docs/behaviour.md §5).
pub(crate) const MAX_LOOKUPS: &str = "maxLookups";
/// `maxLookups` when it is not given.
pub const DEFAULT_MAX_LOOKUPS: usize = 32;
/// The largest `maxLookups` accepted.
pub const MOST_LOOKUPS: usize = 1000;
/// The key of the mode (docs/behaviour.md §6b).
pub(crate) const MODE: &str = "mode";
/// The key of the kinds besides the built-in ones whose images the policy reads (docs/behaviour.md §4).
pub(crate) const CUSTOM_RESOURCES: &str = "customResources";
/// The key a Palette pack wraps the settings in.
const PALETTE_WRAPPER: &str = "imageSwap";
/// Every key of the settings document (docs/behaviour.md §2).
pub const KNOWN_KEYS: [&str; 9] = [
    IMAGE_CHANGE,
    RECORD_ORIGINAL_IMAGES,
    DIGEST,
    IMAGE_PULL_SECRETS,
    CHECK_TARGET_EXISTS,
    PLATFORMS,
    MAX_LOOKUPS,
    MODE,
    CUSTOM_RESOURCES,
];

/// What the policy does with an image the map would change (docs/behaviour.md §6b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Rewrite it (and add pull secrets, and the annotation).
    #[default]
    Mutate,
    /// Never mutate: reject the request, naming every field `Mutate` would change. For a second
    /// policy deployed with `mutating: false`, which runs after every mutating webhook, and for
    /// the background audit of existing workloads.
    Validate,
}

/// The policy's settings, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The parsed, indexed swap map.
    pub rules: Rules,
    /// Write the `imageswap.kubewarden.io/original-images` annotation (default true).
    pub record_original_images: bool,
    /// What a swap does with a digest (default keep).
    pub digest: DigestPolicy,
    /// Canonical registry → the pull secret that Pods with images on it need (docs/behaviour.md §5b).
    pub image_pull_secrets: BTreeMap<String, String>,
    /// Ask the host whether a target exists before swapping to it (docs/behaviour.md §5; default false).
    pub check_target_exists: bool,
    /// The platforms a found target must serve (docs/behaviour.md §5; default none).
    pub platforms: Vec<Platform>,
    /// The most registry lookups one request may make (docs/behaviour.md §5; default 32).
    pub max_lookups: usize,
    /// Mutate (the default) or validate (docs/behaviour.md §6b).
    pub mode: Mode,
    /// Where the kinds besides the built-in ones keep pod specs and images (docs/behaviour.md §4).
    pub custom_resources: CustomResources,
}

/// The settings one request reads ([`Settings::for_request`]): its map holds only the lines
/// that can decide the request's images, and its `customResources` only the request's kind. Only
/// the request path ([`crate::evaluate`]) looks inside, so nothing takes it for checked settings.
#[derive(Debug, Clone)]
pub struct RequestSettings(pub(crate) Settings);

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
    /// A key has a value of the wrong type.
    WrongType {
        /// The settings key.
        key: &'static str,
        /// What its value must be, in words.
        expected: &'static str,
    },
    /// An `imagePullSecrets` key that is not a registry.
    PullSecretRegistry {
        /// The key as written.
        key: String,
        /// What is wrong with it.
        problem: PrefixError,
    },
    /// Two `imagePullSecrets` keys that name one registry.
    PullSecretDuplicate {
        /// The key met first.
        first: String,
        /// The key that names the same registry again.
        second: String,
    },
    /// A pull secret name that is not a valid Kubernetes name.
    SecretName {
        /// The registry key it is given for.
        registry: String,
        /// The name as written (or the JSON of a value that is no string).
        name: String,
    },
    /// An entry of `platforms` that is not `os/arch` or `os/arch/variant`.
    Platform {
        /// Its index in the list.
        index: usize,
        /// The entry as written (or the JSON of a value that is no string).
        text: String,
    },
    /// A setting that has an effect only with `checkTargetExists: true`; holds the setting as
    /// written (`platforms`, `digest: pin`).
    NeedsLookups(&'static str),
    /// A bad line of the swap map.
    Map(MapError),
    /// A bad entry of `customResources`.
    CustomResource(CustomResourceError),
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
            Self::WrongType { key, expected } => write!(f, "{key} must be {expected}"),
            Self::PullSecretRegistry { key, problem } => {
                write!(f, "imagePullSecrets key {key:?} is not a registry: {problem}")
            }
            Self::PullSecretDuplicate { first, second } => {
                write!(f, "imagePullSecrets keys {first:?} and {second:?} name the same registry")
            }
            Self::SecretName { registry, name } => write!(
                f,
                "imagePullSecrets {registry:?}: {name:?} is not a valid secret name (dot-separated labels of lower-case letters, digits and `-`, each starting and ending with a letter or digit; at most {MAX_SUBDOMAIN_LEN} characters)"
            ),
            Self::Platform { index, text } => write!(
                f,
                "platforms[{index}]: {text:?} is not a platform (os/arch or os/arch/variant, in lower case: linux/amd64, linux/arm64/v8)"
            ),
            Self::NeedsLookups(setting) => {
                write!(f, "{setting} needs checkTargetExists: true (it applies to the registry lookups)")
            }
            Self::Map(error) if error.line.is_none() => write!(f, "imageChange: {error}"),
            Self::Map(error) => write!(f, "imageChange {error}"),
            Self::CustomResource(error) => error.fmt(f),
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
    /// The pull secret that Pods with images on `registry` (canonical) need, if any.
    pub fn pull_secret(&self, registry: &str) -> Option<&str> {
        self.image_pull_secrets.get(registry).map(String::as_str)
    }

    /// Reads settings from the JSON document `validate_settings` receives.
    pub fn from_json(document: &[u8]) -> Result<Self, SettingsErrors> {
        let value: Value = serde_json::from_slice(document)
            .map_err(|e| SettingsErrors(vec![SettingsError::NotJson(e.to_string())]))?;
        Self::from_value(&value)
    }

    /// Reads settings from a parsed document, checking the whole map. `null` counts as an empty
    /// object.
    pub fn from_value(document: &Value) -> Result<Self, SettingsErrors> {
        Self::read(document, Entries::All, Rules::parse)
    }

    /// The request path, for a request of `group` and `kind`: reads settings with only the map
    /// lines that can decide `images` (see [`Relevance::rules`]) and only the `customResources`
    /// entry of that kind.
    pub fn for_request(
        document: &Value,
        images: &Relevance,
        group: &str,
        kind: &str,
    ) -> Result<RequestSettings, SettingsErrors> {
        Self::read(document, Entries::Of { group, kind }, |map| images.rules(map).map(|rules| rules.0))
            .map(RequestSettings)
    }

    /// The `customResources` entry of `group` and `kind` alone, so that the request path can read
    /// the request's object before it reads the map. Its problems are left to
    /// [`Settings::for_request`], which every request makes too.
    pub fn custom_resources_of(document: &Value, group: &str, kind: &str) -> CustomResources {
        let value = document.get(CUSTOM_RESOURCES).filter(|v| !v.is_null());
        CustomResources::read(value, Entries::Of { group, kind }, &mut Vec::new())
    }

    fn read(
        document: &Value,
        entries: Entries<'_>,
        parse_map: impl FnOnce(&str) -> Result<Rules, Vec<MapError>>,
    ) -> Result<Self, SettingsErrors> {
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
        let mut optional = Optional { present: &present, errors: &mut errors };
        let record_original_images = optional.read(RECORD_ORIGINAL_IMAGES, true, Value::as_bool, "true or false");
        let digest_choices = [("keep", DigestPolicy::Keep), ("drop", DigestPolicy::Drop), ("pin", DigestPolicy::Pin)];
        let digest = optional.read(DIGEST, DigestPolicy::Keep, one_of(&digest_choices), "keep, drop or pin");
        let check_target_exists = optional.read(CHECK_TARGET_EXISTS, false, Value::as_bool, "true or false");
        let lookup_budget = |value: &Value| {
            value.as_u64().and_then(|n| usize::try_from(n).ok()).filter(|n| (1..=MOST_LOOKUPS).contains(n))
        };
        let max_lookups =
            optional.read(MAX_LOOKUPS, DEFAULT_MAX_LOOKUPS, lookup_budget, "a whole number from 1 to 1000");
        let mode_choices = [("mutate", Mode::Mutate), ("validate", Mode::Validate)];
        let mode = optional.read(MODE, Mode::Mutate, one_of(&mode_choices), "mutate or validate");
        let platforms = match present(PLATFORMS) {
            None => Vec::new(),
            Some(Value::Array(entries)) => parse_platforms(entries, &mut errors),
            Some(_) => {
                errors.push(SettingsError::WrongType { key: PLATFORMS, expected: "a list of os/arch platforms" });
                Vec::new()
            }
        };
        if !check_target_exists {
            if !platforms.is_empty() {
                errors.push(SettingsError::NeedsLookups(PLATFORMS));
            }
            if digest == DigestPolicy::Pin {
                errors.push(SettingsError::NeedsLookups("digest: pin"));
            }
        }
        let image_pull_secrets = match present(IMAGE_PULL_SECRETS) {
            None => BTreeMap::new(),
            Some(Value::Object(secrets)) => parse_pull_secrets(secrets, &mut errors),
            Some(_) => {
                errors.push(SettingsError::WrongType {
                    key: IMAGE_PULL_SECRETS,
                    expected: "a map from registry to secret name",
                });
                BTreeMap::new()
            }
        };
        let mut kind_errors = Vec::new();
        let custom_resources = CustomResources::read(present(CUSTOM_RESOURCES), entries, &mut kind_errors);
        errors.extend(kind_errors.into_iter().map(SettingsError::CustomResource));
        let rules = match present(IMAGE_CHANGE).map(Value::as_str) {
            None => {
                errors.push(SettingsError::MissingMap);
                None
            }
            Some(None) => {
                errors.push(SettingsError::WrongType { key: IMAGE_CHANGE, expected: "a string (the swap map)" });
                None
            }
            Some(Some(map)) => match parse_map(map) {
                Ok(rules) if !check_target_exists && !rules.target_lists().is_empty() => {
                    errors.extend(rules.target_lists().iter().map(|(line, text)| {
                        SettingsError::Map(MapError {
                            line: Some(*line),
                            text: text.clone(),
                            kind: MapErrorKind::ListWithoutLookups,
                        })
                    }));
                    None
                }
                Ok(rules) => Some(rules),
                Err(map_errors) => {
                    errors.extend(map_errors.into_iter().map(SettingsError::Map));
                    None
                }
            },
        };
        match rules {
            Some(rules) if errors.is_empty() => Ok(Self {
                rules,
                record_original_images,
                digest,
                image_pull_secrets,
                check_target_exists,
                platforms,
                max_lookups,
                mode,
                custom_resources,
            }),
            _ => Err(SettingsErrors(errors)),
        }
    }
}

/// The optional settings of a document, read one key at a time.
struct Optional<'a, 'v> {
    /// The value of a key, unless it is absent or `null`.
    present: &'a dyn Fn(&str) -> Option<&'v Value>,
    errors: &'a mut Vec<SettingsError>,
}

impl Optional<'_, '_> {
    /// `default` when `key` is absent or `null`, else what `parse` reads of it; a value it cannot
    /// read is a [`SettingsError::WrongType`] (`expected` says what it must be) and gives `default`.
    fn read<T>(
        &mut self,
        key: &'static str,
        default: T,
        parse: impl FnOnce(&Value) -> Option<T>,
        expected: &'static str,
    ) -> T {
        match (self.present)(key) {
            None => default,
            Some(value) => parse(value).unwrap_or_else(|| {
                self.errors.push(SettingsError::WrongType { key, expected });
                default
            }),
        }
    }
}

/// Reads a string setting that names one of `choices`.
fn one_of<T: Copy>(choices: &[(&str, T)]) -> impl FnOnce(&Value) -> Option<T> {
    move |value| {
        let text = value.as_str()?;
        choices.iter().find(|(name, _)| *name == text).map(|(_, choice)| *choice)
    }
}

/// `platforms`: each entry `os/arch[/variant]`, each once.
fn parse_platforms(entries: &[Value], errors: &mut Vec<SettingsError>) -> Vec<Platform> {
    let mut platforms: Vec<Platform> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        match entry.as_str().and_then(Platform::parse) {
            Some(platform) if !platforms.contains(&platform) => platforms.push(platform),
            Some(_) => {}
            None => errors.push(SettingsError::Platform {
                index,
                text: entry.as_str().map_or_else(|| entry.to_string(), str::to_owned),
            }),
        }
    }
    platforms
}

/// `imagePullSecrets`: registries in canonical form (two spellings of one registry are an error),
/// secret names valid Kubernetes names.
fn parse_pull_secrets(secrets: &Map<String, Value>, errors: &mut Vec<SettingsError>) -> BTreeMap<String, String> {
    let mut parsed = BTreeMap::new();
    let mut written: BTreeMap<String, &str> = BTreeMap::new();
    for (key, name) in secrets {
        let registry = match Prefix::parse(key) {
            Ok(prefix) if prefix.path.is_empty() => prefix.registry,
            Ok(_) => {
                errors
                    .push(SettingsError::PullSecretRegistry { key: key.clone(), problem: PrefixError::PathNotAllowed });
                continue;
            }
            Err(problem) => {
                errors.push(SettingsError::PullSecretRegistry { key: key.clone(), problem });
                continue;
            }
        };
        let Some(name) = name.as_str().filter(|name| is_dns_subdomain(name)) else {
            errors.push(SettingsError::SecretName {
                registry: key.clone(),
                name: name.as_str().map_or_else(|| name.to_string(), str::to_owned),
            });
            continue;
        };
        if let Some(first) = written.get(&registry) {
            errors.push(SettingsError::PullSecretDuplicate { first: (*first).to_owned(), second: key.clone() });
            continue;
        }
        written.insert(registry.clone(), key);
        parsed.insert(registry, name.to_owned());
    }
    parsed
}
