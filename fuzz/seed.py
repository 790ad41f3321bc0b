"""Seeds the fuzz corpora from the repository's test data (written under build/fuzz/corpus)."""
import hashlib
import json
import os
import sys

root = os.path.join(os.path.dirname(__file__), "..")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "fuzz", "corpus")


def load(*path):
    with open(os.path.join(root, *path), encoding="utf-8") as f:
        return json.load(f)


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


for case in load("tests", "cases", "map.json"):
    if case.get("map") is not None:
        put("map", case["map"])
for case in load("tests", "cases", "swap.json"):
    put("map", case["map"])
    put("reference", case["image"])
for vector in load("tests", "cases", "reference-vectors.json"):
    put("reference", vector["input"])
for case in load("tests", "cases", "canonical.json"):
    put("reference", case["input"])
for case in load("tests/cases", "validate-settings.json"):
    if "settings" in case:
        put("evaluate", case["settings"])
    elif "settings_file" in case:
        put("evaluate", json.dumps(load("tests/cases", case["settings_file"])))
for case in load("tests", "cases", "payloads.json"):
    if "payload" in case and len(case["payload"]) < 4096:
        put("evaluate", case["payload"])
for case in load("tests/cases", "admission.json"):
    # A request or settings given as a file name is a file under tests/cases/.
    request = case["request"] if isinstance(case["request"], dict) else load("tests/cases", case["request"])
    request = request.get("request", request) if request.get("kind") == "AdmissionReview" else request
    settings = case["settings"] if isinstance(case["settings"], dict) else load("tests/cases", case["settings"])
    put("evaluate", json.dumps({"request": request, "settings": settings}))
    if isinstance(request.get("object"), dict) and isinstance(settings.get("imageChange"), str):
        put("evaluate", settings["imageChange"].encode() + b"\0" + json.dumps(request["object"]).encode())
print("seeded", {t: len(os.listdir(os.path.join(out, t))) for t in sorted(os.listdir(out))})
