//! docs/behaviour.md §3 "The swap map", second half: lines → typed rules → [`Rules`], the index the decision
//! reads (hash maps for registry/path and `[EXACT]` keys; only `[REPLACE]` globs are scanned).
//! Every check of "Checked when settings are validated" happens here, and every bad line is
//! reported.

use crate::bytes::find_any;
use crate::image::glob::Glob;
use crate::image::normalize::{ExactId, Image, host_without_port};
use crate::image::reference::names_registry_strictly;
use crate::map::hash::FnvHashMap;
use crate::map::lex::{
    DEFAULT_KEY, EXACT_KEYWORD, KeyKind, LineNumber, Lines, MapError, MapErrorKind, MapLine, NOSWAP_KEY,
    REPLACE_KEYWORD, elements, has_whitespace,
};
use crate::map::targets::{Prefix, PrefixError, RegistryTarget, Shape, TargetIndex, literal_registry};
use crate::text::{concat, slashes};

/// The target of a rule, with the line it was given on. `target` is `None` for "leave these images
/// alone" (an empty target, or a target that is its own key).
#[derive(Debug, Clone)]
pub(crate) struct AtLine<T> {
    /// The rule's line.
    pub line: LineNumber,
    /// The target, or the first of an ordered list (docs/behaviour.md §5); `None` leaves the
    /// images alone.
    pub target: Option<T>,
    /// The later targets of an ordered list, in order: tried when the ones before are not found.
    pub fallbacks: Vec<T>,
}

/// The targets of one line: the first (`None`: leave the images alone) and the later ones of an
/// ordered list.
type Listed<T> = (Option<T>, Vec<T>);

impl<T> AtLine<T> {
    fn new(line: LineNumber, (target, fallbacks): Listed<T>) -> Self {
        Self { line, target, fallbacks }
    }
}

/// A `[REPLACE]` rule.
#[derive(Debug, Clone)]
pub(crate) struct ReplaceRule {
    /// The compiled glob.
    pub glob: Glob,
    /// Line and target.
    pub rule: AtLine<RegistryTarget>,
}

/// The target of an `[EXACT]` rule: used verbatim, and the canonical registry it names (for
/// pull secrets), read once when the map is.
#[derive(Debug, Clone)]
pub(crate) struct ExactTarget {
    /// As written in the map.
    pub written: String,
    /// Its canonical registry.
    pub registry: String,
}

/// A registry/path rule: its line, target, and how many path components its key has.
#[derive(Debug, Clone)]
pub(crate) struct PrefixRule {
    /// Line and target.
    pub rule: AtLine<RegistryTarget>,
    /// Number of path components in the key (0 for a bare registry).
    pub depth: usize,
}

/// A parsed, indexed swap map.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The `default` rule, if the map has one.
    default: Option<AtLine<RegistryTarget>>,
    /// The `noswap_wildcards` patterns and their line (without the entries that name a target).
    noswap: Option<(LineNumber, Vec<Glob>)>,
    /// The `noswap_wildcards` entries ignored because they name a target's registry or lie under
    /// a target (docs/behaviour.md §3): step 1 already leaves those images alone.
    ignored_noswap: Vec<String>,
    /// Registry/path keys by canonical `registry[/path]`.
    prefixes: FnvHashMap<String, PrefixRule>,
    /// `[EXACT]` keys by image identity.
    exact: FnvHashMap<ExactId, AtLine<ExactTarget>>,
    /// `[REPLACE]` rules in file order.
    replace: Vec<ReplaceRule>,
    /// Every non-empty target, for step 1.
    targets: TargetIndex,
    /// The line of each `[REPLACE]` glob, to find duplicates.
    replace_lines: FnvHashMap<String, LineNumber>,
    /// The literal `noswap_wildcards` entries, until every target is known.
    noswap_entries: Vec<String>,
    /// The lines whose target is a list, with their text (a list needs `checkTargetExists`).
    lists: Vec<(LineNumber, String)>,
}

/// The key of a rule with a target, checked once every target is known: a key that lies under a
/// target is a dead rule, because step 1 leaves its images alone first.
enum DeadRuleKey {
    Name(String),
    Image(Image),
}

/// What a line means, before it joins the index.
enum LineRule {
    Default(Listed<RegistryTarget>),
    Noswap(Vec<String>),
    Prefix(Prefix, Listed<RegistryTarget>),
    Exact(Image, Listed<(String, ExactId)>),
    Replace(String, Listed<RegistryTarget>),
}

impl LineRule {
    /// Whether the line's target is a list of more than one.
    fn is_list(&self) -> bool {
        match self {
            Self::Default((_, more)) | Self::Prefix(_, (_, more)) | Self::Replace(_, (_, more)) => !more.is_empty(),
            Self::Exact(_, (_, more)) => !more.is_empty(),
            Self::Noswap(_) => false,
        }
    }
}

impl Rules {
    /// Parses and checks a whole map, reporting every bad line: what `validate_settings` does.
    pub fn parse(map: &str) -> Result<Self, Vec<MapError>> {
        Self::build(Lines::new(map), None)
    }

    /// Builds the index from lexed lines, reading only those `filter` keeps (all without one, and
    /// then the dead-rule checks too).
    pub(crate) fn build<'m>(
        lines: impl IntoIterator<Item = Result<MapLine<'m>, MapError>>,
        filter: Option<&dyn Fn(&MapLine<'m>) -> bool>,
    ) -> Result<Self, Vec<MapError>> {
        let mut rules = Self::default();
        let mut errors = Vec::new();
        let mut keyed: Vec<(MapLine<'_>, DeadRuleKey)> = Vec::new();
        for item in lines {
            let line = match item {
                Ok(line) => line,
                Err(whole) if whole.line.is_none() => return Err(vec![whole]),
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            if filter.is_some_and(|keep| !keep(&line)) {
                continue;
            }
            let parsed = match parse_line(&line) {
                Ok(parsed) => parsed,
                Err(kind) => {
                    errors.push(line.error(kind));
                    continue;
                }
            };
            if parsed.is_list() {
                rules.lists.push((line.number, line.text.to_owned()));
            }
            match rules.insert(line.number, parsed) {
                Ok(Some(key)) if filter.is_none() => keyed.push((line, key)),
                Ok(_) => {}
                Err(first) => errors.push(line.error(MapErrorKind::Duplicate(first))),
            }
        }
        for (line, key) in keyed {
            if let Some(target_line) = rules.target_over_rule_key(&key) {
                errors.push(line.error(MapErrorKind::UnderTarget(target_line)));
            }
        }
        rules.drop_noswap_naming_targets();
        errors.sort_by_key(|e| e.line);
        if errors.is_empty() { Ok(rules) } else { Err(errors) }
    }

    /// Removes the literal `noswap_wildcards` entries that name a target's registry or lie under
    /// a target (docs/behaviour.md §3): as substrings they would exempt every image that merely contains the
    /// mirror's name (`evil.io/x:harbor.example.com`).
    fn drop_noswap_naming_targets(&mut self) {
        let Some((_, globs)) = &mut self.noswap else { return };
        let targets = &self.targets;
        let mut kept = Vec::with_capacity(globs.len());
        for (entry, glob) in std::mem::take(&mut self.noswap_entries).into_iter().zip(globs.drain(..)) {
            if literal_registry(&entry).is_some_and(|prefix| targets.names(&prefix)) {
                self.ignored_noswap.push(entry);
            } else {
                kept.push(glob);
            }
        }
        *globs = kept;
    }

    /// Adds a parsed rule; returns its key when it has a target (for the dead-rule check), or
    /// the line of the same key given before (keys compare in canonical form).
    fn insert(&mut self, line: LineNumber, parsed: LineRule) -> Result<Option<DeadRuleKey>, LineNumber> {
        match parsed {
            LineRule::Default(targets) => {
                if let Some(first) = &self.default {
                    return Err(first.line);
                }
                self.add_targets(&targets, line);
                self.default = Some(AtLine::new(line, targets));
                Ok(None)
            }
            LineRule::Noswap(entries) => {
                if let Some((first, _)) = &self.noswap {
                    return Err(*first);
                }
                let globs = entries.iter().map(|entry| Glob::wildcard(entry)).collect();
                self.noswap_entries = entries;
                self.noswap = Some((line, globs));
                Ok(None)
            }
            LineRule::Prefix(prefix, targets) => {
                let key = prefix.canonical();
                if let Some(first) = self.prefixes.get(&key) {
                    return Err(first.rule.line);
                }
                self.add_targets(&targets, line);
                let depth = if prefix.path.is_empty() { 0 } else { prefix.path.split('/').count() };
                let check = targets.0.is_some().then(|| DeadRuleKey::Name(key.clone()));
                self.prefixes.insert(key, PrefixRule { rule: AtLine::new(line, targets), depth });
                Ok(check)
            }
            LineRule::Exact(image, (target, fallbacks)) => {
                let id = image.exact_id();
                if let Some(first) = self.exact.get(&id) {
                    return Err(first.line);
                }
                let mut exact_target = |(written, target_id): (String, ExactId)| {
                    // A canonical name starts with its registry, which holds no `/`.
                    let registry = target_id.name().split('/').next().unwrap_or_default().to_owned();
                    self.targets.add_image(target_id, line);
                    ExactTarget { written, registry }
                };
                let target = target.map(&mut exact_target);
                let fallbacks = fallbacks.into_iter().map(&mut exact_target).collect();
                let check = target.is_some().then_some(DeadRuleKey::Image(image));
                self.exact.insert(id, AtLine { line, target, fallbacks });
                Ok(check)
            }
            LineRule::Replace(pattern, targets) => {
                if let Some(first) = self.replace_lines.get(&pattern) {
                    return Err(*first);
                }
                self.add_targets(&targets, line);
                self.replace.push(ReplaceRule { glob: Glob::fnmatch(&pattern), rule: AtLine::new(line, targets) });
                self.replace_lines.insert(pattern, line);
                Ok(None)
            }
        }
    }

    /// Adds every target of a line to the index of step 1.
    fn add_targets(&mut self, (target, fallbacks): &Listed<RegistryTarget>, line: LineNumber) {
        for target in target.iter().chain(fallbacks) {
            self.targets.add(target, line);
        }
    }

    /// The lines whose target is an ordered list of more than one, with their text: each is an
    /// error unless `checkTargetExists` is on (docs/behaviour.md §5).
    pub fn target_lists(&self) -> &[(LineNumber, String)] {
        &self.lists
    }

    /// The line of a target that a key lies under: a registry/path key when it, or it followed by
    /// `/`, is under a target; an `[EXACT]` key when its image is.
    fn target_over_rule_key(&self, key: &DeadRuleKey) -> Option<LineNumber> {
        match key {
            DeadRuleKey::Name(name) => self.targets.target_over_key(name),
            DeadRuleKey::Image(image) => self.targets.target_over_image(image),
        }
    }

    /// The `default` rule, if the map has one.
    pub(crate) fn default_rule(&self) -> Option<&AtLine<RegistryTarget>> {
        self.default.as_ref()
    }

    /// The line of `noswap_wildcards` and its patterns (without the entries that name a target).
    pub fn noswap(&self) -> Option<(LineNumber, &[Glob])> {
        self.noswap.as_ref().map(|(line, globs)| (*line, globs.as_slice()))
    }

    /// The `noswap_wildcards` entries ignored because they name a target's registry or lie under
    /// a target (docs/behaviour.md §3): step 1 already leaves those images alone.
    pub fn ignored_noswap(&self) -> &[String] {
        &self.ignored_noswap
    }

    /// The `[EXACT]` rule for an image identity.
    pub(crate) fn exact_rule(&self, id: &ExactId) -> Option<&AtLine<ExactTarget>> {
        self.exact.get(id)
    }

    /// Whether the map has `[EXACT]` keys or targets, the rules an image's [`ExactId`] is looked
    /// up in.
    pub(crate) fn has_exact(&self) -> bool {
        !self.exact.is_empty() || self.targets.has_images()
    }

    /// The `[REPLACE]` rules, in file order.
    pub(crate) fn replace_rules(&self) -> &[ReplaceRule] {
        &self.replace
    }

    /// Every non-empty target of the map, for step 1.
    pub(crate) fn targets(&self) -> &TargetIndex {
        &self.targets
    }

    /// The registry/path rule for an image: the longest matching key, where a key without a port
    /// also covers its host on any port and, at the same length, the key with the port wins.
    pub(crate) fn prefix_rule(&self, image: &Image) -> Option<&PrefixRule> {
        if self.prefixes.is_empty() {
            return None;
        }
        let name = image.name();
        let registry = image.registry().len();
        let host = host_without_port(image.registry());
        // Where each candidate key ends, longest first: the whole name, after each path
        // component but the last, after the registry.
        let path = name.get(registry + 1..).unwrap_or_default();
        let path_ends = slashes(path).rev().map(|at| registry + 1 + at);
        let mut ends = std::iter::once(name.len()).chain(path_ends).chain(std::iter::once(registry));
        ends.find_map(|end| {
            let with_port = name.get(..end).and_then(|key| self.prefixes.get(key));
            with_port.or_else(|| {
                let host = host?;
                self.prefixes.get(&concat(&[host, name.get(registry..end).unwrap_or_default()]))
            })
        })
    }
}

/// The value of the map's `noswap_wildcards` line, found without lexing the whole map: the request
/// path needs it before it reads the other lines (see [`Noswap`]).
pub(crate) fn noswap_value(map: &str) -> Option<&str> {
    // Found by its `_`, a byte few maps hold elsewhere, sixteen bytes at a time.
    let underscore = NOSWAP_KEY.find('_').unwrap_or_default();
    let bytes = map.as_bytes();
    let mut from = 0;
    let mut occurrences = std::iter::from_fn(|| {
        loop {
            let found = find_any(bytes, from, [b'_']);
            if found >= bytes.len() {
                return None;
            }
            from = found + 1;
            if let Some(at) = found.checked_sub(underscore)
                && map.get(at..at + NOSWAP_KEY.len()) == Some(NOSWAP_KEY)
            {
                return Some(at);
            }
        }
    });
    occurrences.find_map(|at| {
        let start = map.get(..at)?.rfind('\n').map_or(0, |newline| newline + 1);
        let end = map.get(at..)?.find('\n').map_or(map.len(), |newline| at + newline);
        let line = Lines::new(map.get(start..end)?).next()?.ok()?;
        (line.key == NOSWAP_KEY).then_some(line.value)
    })
}

/// Classifies one line and checks its key and target.
fn parse_line(line: &MapLine<'_>) -> Result<LineRule, MapErrorKind> {
    let (key, value) = (line.key, line.value);
    if key.is_empty() {
        return Err(MapErrorKind::EmptyKey);
    }
    let kind = KeyKind::of(key);
    // Blanks around noswap entries and listed targets are trimmed; inside them they are refused.
    let inner_blank = || elements(value).any(has_whitespace);
    if kind != KeyKind::Noswap && (has_whitespace(key) || inner_blank()) {
        return Err(MapErrorKind::Whitespace);
    }
    match kind {
        KeyKind::Noswap => parse_noswap(value),
        KeyKind::Default => listed(value, |element| registry_target(element, None)).map(LineRule::Default),
        KeyKind::Exact(operand) => parse_exact(operand, value),
        KeyKind::Replace(pattern) => parse_replace(pattern, value),
        KeyKind::Prefix(key) => parse_prefix(key, value),
    }
}

/// `[REPLACE]glob::target`.
fn parse_replace(pattern: &str, value: &str) -> Result<LineRule, MapErrorKind> {
    if pattern.is_empty() {
        return Err(MapErrorKind::EmptyOperand(REPLACE_KEYWORD));
    }
    let targets = listed(value, |element| {
        let target = if element == pattern { None } else { registry_target(element, None)? };
        if target.as_ref().is_some_and(|t| t.shape == Shape::Dash) {
            return Err(MapErrorKind::InvalidTarget(PrefixError::DashInReplace));
        }
        Ok(target)
    })?;
    Ok(LineRule::Replace(pattern.to_owned(), targets))
}

/// `registry[/path]::target`, after the other spellings of the special keys are refused.
fn parse_prefix(key: &str, value: &str) -> Result<LineRule, MapErrorKind> {
    check_spelling(key)?;
    let prefix = Prefix::parse(key).map_err(|why| {
        let first = key.split('/').next().unwrap_or_default();
        if names_registry_strictly(first) {
            MapErrorKind::InvalidKey(why)
        } else {
            MapErrorKind::KeyNotRegistry(key.to_owned())
        }
    })?;
    let targets = listed(value, |element| registry_target(element, Some(&prefix)))?;
    Ok(LineRule::Prefix(prefix, targets))
}

/// `noswap_wildcards::a,b`: entries trimmed, empty ones ignored.
fn parse_noswap(value: &str) -> Result<LineRule, MapErrorKind> {
    let entries = elements(value).filter(|e| !e.is_empty());
    let mut kept = Vec::new();
    for entry in entries {
        if has_whitespace(entry) {
            return Err(MapErrorKind::Whitespace);
        }
        kept.push(entry.to_owned());
    }
    Ok(LineRule::Noswap(kept))
}

/// `[EXACT]image::image`.
fn parse_exact(operand: &str, value: &str) -> Result<LineRule, MapErrorKind> {
    if operand.is_empty() {
        return Err(MapErrorKind::EmptyOperand(EXACT_KEYWORD));
    }
    let image = Image::parse(operand).map_err(MapErrorKind::InvalidImage)?;
    if value.is_empty() {
        return Ok(LineRule::Exact(image, (None, Vec::new())));
    }
    let own = image.exact_id();
    let targets = listed(value, |element| {
        let target = Image::parse(element).map_err(MapErrorKind::InvalidImage)?.exact_id();
        Ok((target != own).then(|| (element.to_owned(), target)))
    })?;
    Ok(LineRule::Exact(image, targets))
}

/// Something that names a target, compared as step 1 compares targets (so that a list names
/// each target once).
trait SameTarget {
    fn same_target(&self, other: &Self) -> bool;
}

impl SameTarget for RegistryTarget {
    fn same_target(&self, other: &Self) -> bool {
        self.canonical == other.canonical && self.shape == other.shape
    }
}

impl SameTarget for (String, ExactId) {
    fn same_target(&self, other: &Self) -> bool {
        self.1 == other.1
    }
}

/// The target of a line, or its ordered list of targets (docs/behaviour.md §5): `,`-separated,
/// each element trimmed and read by `one` (which gives `None` for a target that is the key
/// itself). A single element keeps the meaning of section 3 (empty or the key itself: leave the
/// images alone); in a list, an empty element, the key itself and a repeated target are errors.
fn listed<T: SameTarget>(
    value: &str,
    one: impl Fn(&str) -> Result<Option<T>, MapErrorKind>,
) -> Result<Listed<T>, MapErrorKind> {
    if value.is_empty() {
        return Ok((None, Vec::new()));
    }
    if !value.contains(',') {
        return Ok((one(value)?, Vec::new()));
    }
    let mut targets: Vec<T> = Vec::new();
    for element in elements(value) {
        if element.is_empty() {
            return Err(MapErrorKind::EmptyListedTarget);
        }
        let target = one(element)?.ok_or(MapErrorKind::OwnKeyListed)?;
        if targets.iter().any(|known| known.same_target(&target)) {
            return Err(MapErrorKind::RepeatedTarget(element.to_owned()));
        }
        targets.push(target);
    }
    let mut targets = targets.into_iter();
    Ok((targets.next(), targets.collect()))
}

/// A registry target; `None` when empty or when it is its own `key` (compared as keys are).
fn registry_target(value: &str, key: Option<&Prefix>) -> Result<Option<RegistryTarget>, MapErrorKind> {
    if value.is_empty() {
        return Ok(None);
    }
    let target = RegistryTarget::parse(value).map_err(MapErrorKind::InvalidTarget)?;
    let is_own_key = key.is_some_and(|key| target.shape == Shape::Plain && target.canonical == key.canonical());
    Ok((!is_own_key).then_some(target))
}

/// Rejects other spellings of the special keys and keywords.
fn check_spelling(key: &str) -> Result<(), MapErrorKind> {
    if key.eq_ignore_ascii_case(DEFAULT_KEY) {
        return Err(MapErrorKind::Misspelled(DEFAULT_KEY));
    }
    let noswap_spelling = key.len() == NOSWAP_KEY.len()
        && key.bytes().zip(NOSWAP_KEY.bytes()).all(|(k, n)| k.eq_ignore_ascii_case(&n) || (k == b'-' && n == b'_'));
    if noswap_spelling {
        return Err(MapErrorKind::Misspelled(NOSWAP_KEY));
    }
    let keyword = key
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .map(|(word, _)| word)
        .filter(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic()));
    match keyword {
        Some(word) if word.eq_ignore_ascii_case("EXACT") => Err(MapErrorKind::Misspelled(EXACT_KEYWORD)),
        Some(word) if word.eq_ignore_ascii_case("REPLACE") => Err(MapErrorKind::Misspelled(REPLACE_KEYWORD)),
        Some(word) => Err(MapErrorKind::UnknownKeyword(format!("[{word}]"))),
        None => Ok(()),
    }
}

/// The request path's search for the `noswap_wildcards` line against lexing the whole map.
#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::Value;

    #[test]
    fn noswap_value_is_the_value_of_the_first_noswap_line() {
        let table: Vec<Value> = serde_json::from_str(include_str!("../../../tests/cases/map.json")).unwrap();
        let maps: Vec<&str> = table.iter().filter_map(|case| case.get("map")?.as_str()).collect();
        assert!(maps.iter().any(|map| map.contains(NOSWAP_KEY)), "the map table lost its noswap rows");
        let extra = [
            "a_b::c\nnoswap_wildcards::x",
            "# noswap_wildcards::in-a-comment\nnoswap_wildcards::x,y",
            "quay.io/noswap_wildcards::m.io\nnoswap_wildcards::*-dev*\nnoswap_wildcards::second",
            "nnoswap_wildcards::no\n_",
            "noswap_wildcards",
            "",
        ];
        for map in maps.into_iter().chain(extra) {
            let lexed =
                Lines::new(map).filter_map(Result::ok).find(|line| line.key == NOSWAP_KEY).map(|line| line.value);
            assert_eq!(noswap_value(map), lexed, "{map:?}");
        }
    }
}
