//! The settings cases of `tests/cases/validate-settings.json` and the bad payloads of
//! `tests/cases/payloads.json`: documents given byte for byte.

use crate::tables::{fixture, fixture_path};

/// A settings case of `tests/cases/validate-settings.json`, which every host runs: the document (a
/// file under `tests/cases/`, or inline) and the expected answer.
#[derive(serde::Deserialize)]
pub struct SettingsCase {
    /// What the case shows.
    pub name: String,
    /// The file under `tests/cases/` that holds the document, instead of `settings`.
    #[serde(default)]
    pub settings_file: Option<String>,
    /// The settings document as text (not always JSON: some cases are documents a host refuses).
    #[serde(default)]
    pub settings: String,
    /// A large document as `[text, times]` pieces, instead of `settings`.
    #[serde(default)]
    pub settings_parts: Vec<(String, usize)>,
    /// A document that is not text, in hex, instead of `settings`.
    #[serde(default)]
    pub settings_hex: Option<String>,
    /// Whether the settings are valid.
    pub valid: bool,
    /// The whole message of an invalid document, where the case pins it.
    #[serde(default)]
    pub message: Option<String>,
}

impl SettingsCase {
    /// The document's bytes.
    pub fn document(&self) -> Vec<u8> {
        match &self.settings_file {
            Some(file) => std::fs::read(fixture_path(file)).unwrap_or_else(|e| panic!("{file}: {e}")),
            None => bytes(&self.settings, &self.settings_parts, self.settings_hex.as_deref()),
        }
    }

    /// Every settings case (`tests/cases/validate-settings.json`).
    pub fn all() -> Vec<Self> {
        serde_json::from_value(fixture("validate-settings.json"))
            .unwrap_or_else(|e| panic!("validate-settings.json: {e}"))
    }
}

/// Bytes given as text, as `[text, times]` pieces, or as hex (the first that is given).
pub fn bytes(text: &str, parts: &[(String, usize)], hex: Option<&str>) -> Vec<u8> {
    if let Some(hex) = hex {
        return (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
    }
    if parts.is_empty() {
        text.as_bytes().to_vec()
    } else {
        parts.iter().map(|(t, n)| t.repeat(*n)).collect::<String>().into_bytes()
    }
}

/// A raw `validate` payload and what the policy must answer (`tests/cases/payloads.json`).
#[derive(serde::Deserialize)]
pub struct PayloadCase {
    /// What the case shows.
    pub name: String,
    /// The payload as text.
    #[serde(default)]
    pub payload: String,
    /// A large payload as `[text, times]` pieces.
    #[serde(default)]
    pub payload_parts: Vec<(String, usize)>,
    /// A payload that is not text, in hex.
    #[serde(default)]
    pub payload_hex: Option<String>,
    /// The expected answer.
    pub expect: PayloadExpect,
}

impl PayloadCase {
    /// The payload's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        bytes(&self.payload, &self.payload_parts, self.payload_hex.as_deref())
    }
}

/// What a raw payload must give.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
pub enum PayloadExpect {
    /// A rejection with this whole message.
    Reject(String),
    /// A rejection whose message starts so.
    RejectPrefix(String),
    /// A mutation that changes this many images.
    MutatedImages(usize),
}

impl PayloadExpect {
    /// `Err` unless the answer (`accepted`, message, number of images changed) is the expected one.
    pub fn check(&self, accepted: bool, message: Option<&str>, changed_images: usize) -> Result<(), String> {
        let ok = match self {
            Self::Reject(expected) => !accepted && message == Some(expected.as_str()),
            Self::RejectPrefix(prefix) => !accepted && message.is_some_and(|m| m.starts_with(prefix.as_str())),
            Self::MutatedImages(count) => accepted && changed_images == *count,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "got accepted={accepted} message={message:?} images changed={changed_images}, expected {self:?}"
            ))
        }
    }
}
