//! How a long list is named in a message: the rejections (at most 100 fields) and the log records
//! (docs/behaviour.md §6, at most 20 items) name the first items and count the rest, because a
//! hostile Pod may hold tens of thousands of containers.

/// The first `limit` items joined with `; `, then `; and N more<what>` for the rest of `total`
/// (what the rejections and the log records name of a long list).
pub(crate) fn listing(items: impl Iterator<Item = String>, total: usize, limit: usize, what: &str) -> String {
    let shown: Vec<String> = items.take(limit).collect();
    let mut text = shown.join("; ");
    if total > shown.len() {
        text.push_str(&format!("; and {} more{what}", total - shown.len()));
    }
    text
}
