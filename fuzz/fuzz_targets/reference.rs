//! Any text as an image reference: parsing never panics, an accepted reference prints as text that
//! parses back to the same reference, and its canonical form parses back to the same image (but
//! for a registry named only by its upper-case letters, see below).
//! (Familiar forms are matched as text only: like distribution/reference's FamiliarString, the
//! familiar form of `docker.io/foo.bar/baz` reads `foo.bar` as a registry.)
#![no_main]

use imageswap_engine::Image;
use imageswap_engine::testing::{DOCKER_HUB, Reference, names_registry_strictly};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(reference) = Reference::parse(&text) else { return };
    let again = Reference::parse(&reference.to_string());
    assert_eq!(again.as_ref(), Ok(&reference), "round trip of {text:?}");
    // Folding can make the name too long (a Docker Hub alias gains `library/`); then the image is
    // refused, and only images that fold are checked further.
    // A registry that is one only through its upper-case letters (`Foo/bar`) is named in lower
    // case (registries compare so), and its canonical text then reads as a Docker Hub name: such
    // an image is compared by its parts, never re-read from that text.
    let by_case = !names_registry_strictly(&reference.domain().to_ascii_lowercase()) && reference.domain() != DOCKER_HUB;
    let Ok(image) = Image::try_from(reference) else { return };
    if by_case {
        return;
    }
    let canonical = Image::parse(&image.canonical());
    assert_eq!(canonical.as_ref(), Ok(&image), "canonical form of {text:?}");
});
