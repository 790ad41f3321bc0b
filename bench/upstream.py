"""Times the upstream ImageSwap webhook's swap_image on the same map and images as ours.

Usage: upstream.py UPSTREAM_DIR MAP_FILE IMAGES_FILE OURS_NS_PER_IMAGE

UPSTREAM_DIR holds imageswap.py exported from a fetched copy of phenixblue/imageswap-webhook (it
is imported from there, never copied into this repository). The unit of work is one Pod's images
(IMAGES_FILE), each side doing what it does in production: upstream's swap_image re-reads and
re-parses the map file for every container; imageswap parses the map once per request and decides
each image (imageswap-bench per-image). Both report time per image. Upstream's INFO logging is
turned off (IMAGESWAP_LOG_LEVEL=ERROR) so that log output is not what is measured.
"""
import os
import statistics
import sys
import time


def main():
    upstream_dir, map_file, images_file, ours = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    os.environ["IMAGESWAP_MAPS_FILE"] = map_file
    os.environ["IMAGESWAP_LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, upstream_dir)
    import imageswap  # noqa: E402  (the fetched upstream module)

    images = [line for line in open(images_file).read().splitlines() if line]
    samples = []
    for _ in range(7):
        started = time.perf_counter_ns()
        rounds = 0
        while time.perf_counter_ns() - started < 200_000_000:
            for image in images:
                imageswap.swap_image({"name": "c", "image": image})
            rounds += 1
        samples.append((time.perf_counter_ns() - started) / (rounds * len(images)))
    theirs = statistics.median(samples)
    rules = sum(1 for line in open(map_file) if line.strip())
    print(f"| {rules} rules | {theirs / 1e3:.1f} µs | {ours / 1e3:.2f} µs | **{theirs / ours:.0f}×** |")


if __name__ == "__main__":
    main()
