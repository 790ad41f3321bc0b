"""What each fast path of the engine is worth: the policy built with one fast path turned off (its
slow twin, which the tests check it against, doing the work), timed beside the policy as it is.

Usage: python3 bench/fast-paths.py [SAMPLES ROUNDS] [NAME...]   (from the repository's root)
       python3 bench/fast-paths.py --check   (each patch still applies; `make lint` runs it)

For each NAME (default: all of FAST_PATHS), the source is patched so that the slow twin runs, the
module is built (release, wasm32-wasip1, as `make policy.wasm` builds it) into
build/bench/fast-paths/NAME.wasm, and the source is restored. `imageswap-bench wasm` and `worst`
then time policy.wasm and the variant in one interleaved run (the variant stands in the no-op
floor's column), and the table printed gives, per row and mode, how much slower the policy is
without the fast path (1.10x: 10 % slower). A fast path is kept where a row it targets is 3 % or
more slower without it, warm and fresh, in two runs; see BENCHMARKS.md, "Fast paths".

Needs policy.wasm, build/floors/prefix.wasm and target/host/imageswap-bench (`make bench` builds
them). Each variant is one release build of the module and one run of both tables.
"""
import os
import pathlib
import shutil
import subprocess
import sys

# name -> [(file, text, replacement)]: each replacement makes the fast path's slow twin do the work.
FAST_PATHS = {
    # swap.rs: a target reached by a plain prefix is known to land on the target without parsing
    # the swapped reference (lands_on_target).
    "plainly-under": [("engine/src/swap.rs", "let plainly = plainly_under(target, &name);",
                       "let plainly = false && plainly_under(target, &name);")],
    # image/glob.rs: a pattern of `*` and literals only is matched without tokenising it.
    "glob-stars": [
        ("engine/src/image/glob.rs", "if stars_only(pattern) {\n            return Self(Form::Stars",
         "if false && stars_only(pattern) {\n            return Self(Form::Stars"),
        ("engine/src/image/glob.rs", "if stars_only(pattern) {\n            return texts.any",
         "if false && stars_only(pattern) {\n            return texts.any"),
        ("engine/src/image/glob.rs", "if !pattern.contains('?') {", "if false && !pattern.contains('?') {"),
    ],
    # object/edits.rs: the original-images annotation's entries ordered by a number read once from
    # each key's head before their texts are compared.
    "head-number": [("engine/src/object/edits.rs",
                     "a.cmp(b).then_with(|| bytes::compare(a_key.as_bytes(), b_key.as_bytes()))",
                     "let _ = (a, b); bytes::compare(a_key.as_bytes(), b_key.as_bytes())")],
    # bytes.rs: byte strings compared eight bytes at a time.
    "word-compare": [("engine/src/bytes.rs",
                      "pub(crate) fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {\n",
                      "pub(crate) fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {\n"
                      "    if true { return a.cmp(b); }\n")],
    # object/walk.rs: the images of one list written after one look-up of the list, rather than a
    # pointer look-up per image.
    "list-once": [("engine/src/object/walk.rs",
                   "let list_at = group.first().and_then(|edit| site(edit).list_pointer());",
                   "let list_at = group.first().and_then(|edit| site(edit).list_pointer()).filter(|_| false);")],
    # map/lex.rs: the request path skips a plain line without splitting it.
    "skim": [("engine/src/map/lex.rs",
              "let Some(rest) = self.rest else { return false };\n        // The whole-map limits",
              "let Some(rest) = self.rest.filter(|_| false) else { return false };\n"
              "        // The whole-map limits")],
    # bytes.rs: the block search in 16-byte SIMD blocks rather than 8-byte words.
    "simd": [
        ("engine/src/bytes.rs", '#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]', "#[cfg(all())]"),
        ("engine/src/bytes.rs",
         '#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]\n#[inline(always)]\nfn full_block',
         "#[cfg(any())]\n#[inline(always)]\nfn full_block"),
    ],
    # bytes.rs: the block search rather than a byte at a time.
    "blocks": [("engine/src/bytes.rs", "Some(chunk) => Some(full_block(chunk, set)),",
                "Some(chunk) => Some(plain(chunk, set)),")],
    # map/relevance.rs: an [EXACT] operand's identity read from its text rather than parsed.
    "identity": [("engine/src/map/relevance.rs", "        let (name, digest, version) = identity(reference);\n",
                  "        let Ok(parsed) = Image::parse(reference) else { return false };\n"
                  "        let (name, digest, version, _) = identity_of(&parsed);\n")],
}

OUT = pathlib.Path("build/bench/fast-paths")
BENCH = "target/host/imageswap-bench"


def unpatchable(name):
    """What keeps the patches of NAME from applying to the source as it is, if anything."""
    for path, text, _ in FAST_PATHS[name]:
        count = pathlib.Path(path).read_text().count(text)
        if count != 1:
            return f"{name}: {path} holds the text to patch {count} times, not once; update FAST_PATHS"
    return None


def build(name):
    """Builds the variant NAME into OUT, the source restored whatever happens."""
    originals = {}
    try:
        for path, text, replacement in FAST_PATHS[name]:
            originals.setdefault(path, pathlib.Path(path).read_text())
            pathlib.Path(path).write_text(pathlib.Path(path).read_text().replace(text, replacement))
        subprocess.run(["cargo", "build", "--locked", "-q", "--release", "--target", "wasm32-wasip1",
                        "-p", "imageswap"], check=True)
    finally:
        for path, source in originals.items():
            pathlib.Path(path).write_text(source)
    shutil.copy("target/wasm32-wasip1/release/imageswap.wasm", OUT / f"{name}.wasm")


def milliseconds(figure):
    value, unit = figure.split()
    return float(value) * {"ns": 1e-6, "µs": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def ratios(table, columns):
    """(row, mode, ratio without ÷ with) of an imageswap-bench table; `columns` locates the row's
    name, its mode, the policy's and the variant's figures."""
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 6 or not cells[0] or cells[0] in ("request", "shape") or cells[0].startswith("-"):
            continue
        name, mode, policy, variant = (cells[i] for i in columns)
        try:
            yield name, mode, milliseconds(variant) / milliseconds(policy)
        except (ValueError, KeyError):
            continue


def main():
    args = sys.argv[1:]
    problems = [problem for problem in map(unpatchable, FAST_PATHS) if problem]
    if problems or args == ["--check"]:
        sys.exit("\n".join(problems) or None)
    samples, rounds = (args[0], args[1]) if len(args) >= 2 and args[0].isdigit() else ("5", "5")
    names = [arg for arg in args if not arg.isdigit()] or list(FAST_PATHS)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        build(name)
    print("| fast path | row | mode | without ÷ with |\n|---|---|---|---:|")
    for name in names:
        variant = str(OUT / f"{name}.wasm")
        for command, columns in (("wasm", (0, 1, 2, 3)), ("worst", (0, 3, 4, 5))):
            table = subprocess.run([BENCH, command, "policy.wasm", variant, "build/floors/prefix.wasm",
                                    samples, rounds], check=True, capture_output=True, text=True).stdout
            (OUT / f"{name}.{command}.md").write_text(table)
            for row, mode, ratio in ratios(table, columns):
                print(f"| {name} | {row} | {mode} | {ratio:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
