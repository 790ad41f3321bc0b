#!/usr/bin/env python3
"""Writes a tiny OCI image layout for the real-registry suite, so that no test fetches an image.

    oci-image.py DIR TAG PLATFORM [PLATFORM ...]

One PLATFORM (`os/arch[/variant]`) gives a single image manifest, whose config names that
platform; several give an image index over one manifest per platform. Each image holds one small
layer with a file naming its platform, so every manifest (and so every digest) differs. `skopeo copy
--all oci:DIR:TAG docker://…` puts it in a registry.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(root, data):
    """Stores DATA under blobs/sha256/ and returns its descriptor fields."""
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(root, "blobs", "sha256", digest)
    with open(path, "wb") as out:
        out.write(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def layer(platform):
    """A gzipped tar with one file; returns (compressed, uncompressed)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        content = f"imageswap test image for {platform}\n".encode()
        info = tarfile.TarInfo("platform.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    uncompressed = raw.getvalue()
    return gzip.compress(uncompressed, mtime=0), uncompressed


def image(root, platform):
    """Writes one image for PLATFORM; returns its manifest's descriptor, with the platform."""
    os_name, arch, *variant = platform.split("/")
    compressed, uncompressed = layer(platform)
    config = {
        "architecture": arch,
        "os": os_name,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(uncompressed).hexdigest()]},
        "config": {},
    }
    if variant:
        config["variant"] = variant[0]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(root, json.dumps(config).encode())},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob(root, compressed)}],
    }
    descriptor = {"mediaType": manifest["mediaType"], **blob(root, json.dumps(manifest).encode())}
    descriptor["platform"] = {"architecture": arch, "os": os_name, **({"variant": variant[0]} if variant else {})}
    return descriptor


def main(root, tag, platforms):
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "w") as out:
        json.dump({"imageLayoutVersion": "1.0.0"}, out)
    manifests = [image(root, platform) for platform in platforms]
    if len(manifests) == 1:
        top = dict(manifests[0])
        del top["platform"]
    else:
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
        top = {"mediaType": index["mediaType"], **blob(root, json.dumps(index).encode())}
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(os.path.join(root, "index.json"), "w") as out:
        json.dump({"schemaVersion": 2, "manifests": [top]}, out)
    print(top["digest"])


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
