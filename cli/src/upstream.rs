//! The upstream webhook's swap, emulated, so that `imageswap migrate` can show what a map did
//! before (phenixblue/imageswap-webhook v1.5.3, `build_swap_map` and `swap_image` in MAPS mode, as
//! the research notes behind docs/behaviour.md specified them from its code and tests;
//! `tests/cases/upstream.json` records the behaviours checked).
//!
//! Only the CLI uses this; nothing of it is in the policy. One simplification: upstream treats a
//! registry key as a regular expression when it substitutes it; here only `.` is special (it matches
//! any character), which is all a registry name can hold, and backslashes in targets are literal.

use std::collections::HashMap;

use imageswap_engine::Glob;

/// An upstream map file, parsed as upstream parses it.
#[derive(Default)]
pub struct UpstreamMap {
    exact: HashMap<String, String>,
    /// Patterns in the order of their first line, each with its last target.
    replace: Vec<(String, String)>,
    plain: HashMap<String, String>,
}

/// What upstream does with an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Old {
    /// The image it writes (possibly the same).
    Image(String),
    /// The webhook crashes (HTTP 500; the Pod is denied under `failurePolicy: Fail`).
    Crash(&'static str),
}

impl UpstreamMap {
    /// `build_swap_map`: comments cut at the last `#` that follows a non-`#`, spaces deleted,
    /// `::` or a lone `:` separates, later lines win.
    pub fn parse(map: &str) -> Self {
        let mut parsed = Self::default();
        for raw in map.lines() {
            if raw.starts_with('#') {
                continue;
            }
            let bytes = raw.as_bytes();
            let cut = (1..bytes.len()).rev().find(|&i| bytes.get(i) == Some(&b'#') && bytes.get(i - 1) != Some(&b'#'));
            let line: String = raw.get(..cut.unwrap_or(raw.len())).unwrap_or_default().trim_end().replace(' ', "");
            if line.is_empty() {
                continue;
            }
            let parts: Vec<&str> =
                if line.contains("::") { line.split("::").collect() } else { line.split(':').collect() };
            let [key, value] = parts.as_slice() else { continue };
            let value = (*value).to_owned();
            if let Some(image) = key.strip_prefix("[EXACT]") {
                parsed.exact.insert(image.to_owned(), value);
            } else if let Some(pattern) = key.strip_prefix("[REPLACE]") {
                match parsed.replace.iter_mut().find(|(p, _)| p == pattern) {
                    Some(entry) => entry.1 = value,
                    None => parsed.replace.push((pattern.to_owned(), value)),
                }
            } else {
                parsed.plain.insert((*key).to_owned(), value);
            }
        }
        parsed
    }

    /// `swap_image` in MAPS mode.
    pub fn swap(&self, image: &str) -> Old {
        if let Some(target) = self.exact.get(image) {
            return Old::Image(target.clone());
        }
        if let Some((_, target)) = self.replace.iter().find(|(pattern, _)| Glob::fnmatch(pattern).matches(image)) {
            let last = image.rsplit('/').next().unwrap_or_default();
            return Old::Image(match target.as_str() {
                "" => last.to_owned(),
                t if t.ends_with('/') => format!("{t}{last}"),
                t => format!("{t}/{last}"),
            });
        }
        // A registry only with a dot and a non-empty rest; everything else is Docker Hub.
        let (registry, implicit) = match image.split_once('/') {
            Some((first, rest)) if first.contains('.') && !rest.is_empty() => (first, false),
            _ => ("docker.io", true),
        };
        let portless = registry.split(':').next().unwrap_or_default();
        let mut key = if !self.plain.contains_key(registry) && self.plain.contains_key(portless) {
            portless.to_owned()
        } else {
            registry.to_owned()
        };
        let keep = || Old::Image(image.to_owned());
        let Some(default) = self.plain.get("default") else { return keep() };
        let library = format!("{key}/library");
        if self.plain.contains_key(&key) || self.plain.contains_key(&library) {
            if !image.contains('/') && self.plain.contains_key(&library) {
                key = library;
            }
            let Some(target) = self.plain.get(&key) else {
                return Old::Crash("KeyError: a `<registry>/library` key without a `<registry>` key");
            };
            return Old::Image(match target.as_str() {
                "" => image.to_owned(),
                t if t.ends_with('-') && implicit => format!("{t}docker.io/{}", drop_port_path(image)),
                t if t.ends_with('-') => format!("{t}{}", drop_port_path(image)),
                t if dot_find(image, &key, 0).is_some() => substitute(image, &key, t),
                t => format!("{t}/{image}"),
            });
        }
        let noswap = self.plain.get("noswap_wildcards").filter(|v| !v.is_empty());
        if noswap.is_some_and(|entries| entries.split(',').any(|entry| image.contains(entry))) {
            return keep();
        }
        Old::Image(match default.as_str() {
            "" => image.to_owned(),
            t if t.ends_with('-') => format!("{t}{portless}/{image}"),
            t if image.contains(registry) => substitute(image, registry, t),
            t => format!("{t}/{image}"),
        })
    }
}

/// `re.sub(":.*/", "/", image)`: from the first `:` to the last `/` (meant to drop a port).
fn drop_port_path(image: &str) -> String {
    match (image.find(':'), image.rfind('/')) {
        (Some(colon), Some(slash)) if colon < slash => {
            format!("{}/{}", image.get(..colon).unwrap_or_default(), image.get(slash + 1..).unwrap_or_default())
        }
        _ => image.to_owned(),
    }
}

/// Where `pattern` (its `.` matching any character) first matches `text` at or after `from`.
fn dot_find(text: &str, pattern: &str, from: usize) -> Option<usize> {
    let (text, pattern) = (text.as_bytes(), pattern.as_bytes());
    (from..=text.len().checked_sub(pattern.len())?)
        .find(|&at| pattern.iter().enumerate().all(|(i, p)| *p == b'.' || text.get(at + i) == Some(p)))
}

/// `re.sub(key, target, image)`: every match of the key replaced, left to right.
fn substitute(image: &str, key: &str, target: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    while let Some(found) = dot_find(image, key, at).filter(|_| !key.is_empty()) {
        out.push_str(image.get(at..found).unwrap_or_default());
        out.push_str(target);
        at = found + key.len();
    }
    out.push_str(image.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {

    use super::{Old, UpstreamMap};

    /// `tests/cases/upstream.json`: the behaviours the research notes record ([test] and [ran]).
    /// `old: null` is a crash.
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        map: String,
        image: String,
        old: Option<String>,
    }

    #[test]
    fn the_emulation_does_what_upstream_did() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/upstream.json")).unwrap();
        let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
        assert!(cases.len() > 30);
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|case| {
                let got = UpstreamMap::parse(&case.map).swap(&case.image);
                let ok = match (&got, &case.old) {
                    (Old::Image(got), Some(old)) => got == old,
                    (Old::Crash(_), None) => true,
                    _ => false,
                };
                (!ok).then(|| format!("{}: got {got:?}, expected {:?}", case.name, case.old))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
