//! `imageswap migrate`: a Palette pack's `imageSwap:` block, the upstream webhook's ConfigMap
//! (`data.maps`) or a map file → a ClusterAdmissionPolicy for this policy, with a note for every
//! line whose meaning differs from the upstream webhook (README, "Differences from the upstream
//! webhook") and every line the policy refuses.

use imageswap_engine::Rules;
use imageswap_engine::Settings;
use imageswap_engine::explain;
use imageswap_engine::{KeyKind, LineNumber, Lines};
use serde_json::{Value, json};

use crate::upstream::{Old, UpstreamMap};

/// Where the map came from, and the settings found beside it.
pub struct Source {
    /// What the input was, for the notes.
    pub kind: &'static str,
    /// The settings (at least `imageChange`).
    pub settings: Value,
}

/// Reads the input: a YAML document with `imageSwap:` (Palette), a ConfigMap with `data.maps`
/// (upstream), or plain map text.
pub fn read_source(text: &str) -> Source {
    if let Ok(document) = serde_yaml::from_str::<Value>(text) {
        if let Some(block) = document.get("imageSwap").filter(|b| b.is_object()) {
            return Source { kind: "Palette imageSwap block", settings: block.clone() };
        }
        if document.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
            let maps = document.pointer("/data/maps").and_then(Value::as_str).unwrap_or_default();
            return Source { kind: "upstream ConfigMap imageswap-maps", settings: json!({ "imageChange": maps }) };
        }
    }
    Source { kind: "map file", settings: json!({ "imageChange": text }) }
}

/// Notes on lines whose meaning differs from upstream, as `(line, note)`; a note about the whole
/// map has no line.
pub fn differences(map: &str) -> Vec<(Option<LineNumber>, String)> {
    let mut notes = Vec::new();
    let mut has_default = false;
    for (index, raw) in map.lines().enumerate() {
        let line = Some(LineNumber::MIN.saturating_add(index));
        if raw.matches('#').count() >= 2 && !raw.trim_start().starts_with('#') {
            notes.push((line, "the comment now starts at the first `#` (upstream cut at the last one, so text between them was part of the rule)".to_owned()));
        }
        let content = raw.split('#').next().unwrap_or_default().trim();
        let Some((key, value)) = content.split_once("::").or_else(|| content.split_once(':')) else { continue };
        let (key, value) = (key.trim(), value.trim());
        let kind = KeyKind::of(key);
        has_default |= kind == KeyKind::Default;
        if !content.contains("::") {
            notes.push((line, "deprecated single-colon form; write `key::target`".to_owned()));
        }
        if matches!(kind, KeyKind::Exact(_)) && value.is_empty() {
            notes.push((
                line,
                "an empty [EXACT] target now leaves the image alone (upstream blanked the image)".to_owned(),
            ));
        }
        if matches!(kind, KeyKind::Replace(_)) && value.is_empty() {
            notes.push((
                line,
                "an empty [REPLACE] target now leaves the image alone (upstream kept only its last path component)"
                    .to_owned(),
            ));
        }
        if kind == KeyKind::Noswap && value.split(',').any(|entry| entry.trim().is_empty()) {
            notes.push((
                line,
                "empty noswap entries are now ignored (upstream's empty entry disabled every default swap)".to_owned(),
            ));
        }
        let KeyKind::Prefix(key) = kind else { continue };
        if key.starts_with('[') {
            continue;
        }
        let registry = key.split('/').next().unwrap_or_default();
        if !registry.contains('.') {
            notes.push((
                line,
                format!("`{registry}` is now a registry (upstream needed a dot and never matched this key)"),
            ));
        }
        if ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]
            .contains(&registry.to_ascii_lowercase().as_str())
            || (registry != "docker.io" && registry.eq_ignore_ascii_case("docker.io"))
        {
            notes.push((line, format!("`{registry}` now means Docker Hub and covers every spelling of its images (upstream matched this spelling only)")));
        }
        if key.contains('/') && !key.ends_with("/library") {
            notes.push((line, "path keys now apply to images under that path (upstream ignored them)".to_owned()));
        }
        if registry == "docker.io" && !key.contains('/') && !value.is_empty() {
            notes.push((line, "one-word Docker Hub images now keep `library/` in the new reference (upstream dropped it for `nginx` but kept it for `docker.io/library/nginx`)".to_owned()));
        }
    }
    if let Ok(rules) = Rules::parse(map)
        && let Some((line, _)) = rules.noswap()
    {
        for entry in rules.ignored_noswap() {
            notes.push((Some(line), format!("noswap entry `{entry}` names a target (its registry, or a path under it) and is now ignored: images under a target are left alone anyway, and as a substring it also exempted every image that merely contains that text")));
        }
    }
    if !has_default && map.lines().any(|l| l.contains(':') && !l.trim_start().starts_with('#')) {
        notes.push((
            None,
            "the map has no `default` line: registry keys now apply anyway (upstream swapped nothing without one)"
                .to_owned(),
        ));
    }
    notes
}

/// Images every migration is checked with, beside the ones its own lines name.
const COMMON_IMAGES: [&str; 8] = [
    "nginx:1.25",
    "library/nginx:1.25",
    "docker.io/library/nginx:1.25",
    "bitnami/redis:7",
    "quay.io/org/app:1",
    "registry.k8s.io/pause:3.9",
    "localhost:5000/app:1",
    "gcr.io:443/team/app:1",
];

/// An image whose result changes with the move.
pub struct Change {
    /// The image as written.
    pub image: String,
    /// What the upstream webhook wrote (or that it crashed).
    pub old: String,
    /// What this policy writes.
    pub new: String,
    /// The rule line that decides it now, if one does.
    pub line: Option<LineNumber>,
    /// Why, in words.
    pub reason: String,
}

/// Images the map's own lines name: an image under each registry/path key, each `[EXACT]` operand,
/// an image each `[REPLACE]` glob matches (its `*` and `?` filled in), then [`COMMON_IMAGES`]. The
/// map is one the policy accepts, read with the policy's own lexer.
fn example_images(map: &str) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    for line in Lines::new(map).filter_map(Result::ok) {
        let image = match KeyKind::of(line.key) {
            KeyKind::Exact(operand) => operand.to_owned(),
            KeyKind::Replace(glob) => glob.replace('*', "app").replace('?', "a"),
            KeyKind::Prefix(key) if !key.starts_with('[') && !key.is_empty() => {
                format!("{}/app:1", key.trim_end_matches('/'))
            }
            _ => continue,
        };
        images.push(image);
    }
    images.extend(COMMON_IMAGES.iter().map(|image| (*image).to_owned()));
    let mut seen = std::collections::HashSet::new();
    images.retain(|image| seen.insert(image.clone()));
    images
}

/// The example images whose result differs between the upstream webhook (emulated) and this
/// policy, for a map the policy accepts.
pub fn changed_results(map: &str, settings: &Settings) -> Vec<Change> {
    let upstream = UpstreamMap::parse(map);
    example_images(map)
        .into_iter()
        .filter_map(|image| {
            let now = explain(&settings.rules, settings.digest, &image);
            if !now.is_decided() {
                return None;
            }
            let new = now.new.clone().unwrap_or_else(|| image.clone());
            let old = match upstream.swap(&image) {
                Old::Image(old) if old.is_empty() => "\"\" (an empty image)".to_owned(),
                Old::Image(old) => old,
                Old::Crash(why) => format!("a crash ({why})"),
            };
            (old != new).then_some(Change { image, old, new, line: now.line, reason: now.reason })
        })
        .collect()
}

/// The ClusterAdmissionPolicy for `settings`, as YAML.
pub fn policy_yaml(name: &str, module: &str, settings: &Value) -> Result<String, String> {
    let rule = |groups: &[&str], resources: &[&str]| json!({ "apiGroups": groups, "apiVersions": ["v1"], "resources": resources, "operations": ["CREATE", "UPDATE"] });
    let policy = json!({
        "apiVersion": "policies.kubewarden.io/v1",
        "kind": "ClusterAdmissionPolicy",
        "metadata": { "name": name },
        "spec": {
            "module": module,
            "mutating": true,
            "backgroundAudit": false,
            "rules": [
                rule(&[""], &["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"]),
                rule(&["apps"], &["deployments", "replicasets", "statefulsets", "daemonsets"]),
                rule(&["batch"], &["jobs", "cronjobs"]),
            ],
            "settings": settings,
        }
    });
    serde_yaml::to_string(&policy).map_err(|e| e.to_string())
}
