//! An independent oracle for the index (globset's "same answer from every matcher"): plain scans
//! over every line of a map, for step 1 (the image already lies under a target) and step 4 (the
//! longest registry/path key, a key without a port covering its host on any port, the key with the
//! port first at the same length). The index answers the same with hash lookups.

use imageswap_engine::Image;
use imageswap_engine::Prefix;
use imageswap_engine::Step;
use imageswap_engine::testing::Decision;
use imageswap_engine::testing::host_without_port;
use imageswap_engine::testing::{RegistryTarget, Shape};
use imageswap_engine::{KeyKind, Lines};

/// The line of the first target (in line order) that `image` lies under, scanning every line.
pub fn target_line(map: &str, image: &Image) -> Option<usize> {
    let name = image.canonical_name();
    let under = |target: &RegistryTarget| match target.shape {
        Shape::Plain | Shape::Slash => name == target.canonical || name.starts_with(&format!("{}/", target.canonical)),
        Shape::Dash => name.starts_with(&target.canonical),
        other => panic!("the scan knows no target shape {other:?}"),
    };
    Lines::new(map).filter_map(Result::ok).find_map(|line| {
        let hit = match KeyKind::of(line.key) {
            _ if line.value.is_empty() => false,
            KeyKind::Exact(operand) => {
                let (Ok(key), Ok(target)) = (Image::parse(operand), Image::parse(line.value)) else { return None };
                target.exact_id() != key.exact_id() && target.exact_id() == image.exact_id()
            }
            KeyKind::Noswap => false,
            KeyKind::Replace(glob) => glob != line.value && RegistryTarget::parse(line.value).is_ok_and(|t| under(&t)),
            KeyKind::Default => RegistryTarget::parse(line.value).is_ok_and(|t| under(&t)),
            KeyKind::Prefix(key) => {
                let own = Prefix::parse(key).ok().map(|key| key.canonical());
                RegistryTarget::parse(line.value)
                    .is_ok_and(|t| !(t.shape == Shape::Plain && Some(&t.canonical) == own.as_ref()) && under(&t))
            }
            other => panic!("the scan knows no key kind {other:?}"),
        };
        hit.then_some(line.number.get())
    })
}

/// The line of the registry/path key step 4 picks for `image`, scanning every line.
pub fn prefix_line(map: &str, image: &Image) -> Option<usize> {
    let path = image.path();
    let mut best: Option<(usize, bool, usize)> = None; // (path length, with the port, line)
    for line in Lines::new(map).filter_map(Result::ok) {
        let KeyKind::Prefix(key) = KeyKind::of(line.key) else { continue };
        let Ok(key) = Prefix::parse(key) else { continue };
        let with_port = key.registry == image.registry();
        let on_host = host_without_port(image.registry()) == Some(key.registry.as_str());
        let under = key.path.is_empty() || path == key.path || path.starts_with(&format!("{}/", key.path));
        if (with_port || on_host) && under {
            let rank = (key.path.len(), with_port, line.number.get());
            let better = best.is_none_or(|(len, port, _)| (rank.0, rank.1) > (len, port));
            if better {
                best = Some(rank);
            }
        }
    }
    best.map(|(_, _, line)| line)
}

/// `Err` unless the index's decision for `image` agrees with the scans: step 1 exactly when
/// an image lies under a target (with its line), and step 4's line, or no key at all when a
/// later step decided.
pub fn check(map: &str, image: &Image, decision: &Decision) -> Result<(), String> {
    let target = target_line(map, image);
    let prefix = prefix_line(map, image);
    let decided = decision.line.map(|line| line.get());
    match (decision.step, target) {
        (Step::AlreadySwapped, Some(line)) if Some(line) == decided => Ok(()),
        (step, Some(line)) => {
            Err(format!("the scan finds a target on line {line}; the index decided {step:?} on line {decided:?}"))
        }
        (Step::AlreadySwapped, None) => Err(format!("the index finds a target on line {decided:?}, the scan none")),
        (Step::Prefix, _) if prefix == decided => Ok(()),
        (Step::Prefix, _) => Err(format!("the index picks the key on line {decided:?}, the scan {prefix:?}")),
        (Step::Noswap | Step::Default | Step::NoRule, _) if prefix.is_some() => {
            Err(format!("the scan finds the key on line {prefix:?}, which the index missed"))
        }
        _ => Ok(()),
    }
}
