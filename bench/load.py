"""Load test: a real policy-server on 127.0.0.1 serving the annotated policy beside the trivial
mutator floor, a bounded stream of AdmissionReviews from several client threads for a fixed time,
every answer checked.

Usage: load.py POLICY_SERVER ANNOTATED_POLICY ANNOTATED_FLOOR [SECONDS] [CLIENTS]

The requests are the cases of tests/cases/admission.json that use the seed's settings (swapped Pods,
untouched Pods, a Deployment, a DELETE, an unrelated kind, bad images, requests without object):
each answer's patch, applied to the request's object, must give the case's expected object, and
rejections must carry the case's message. The floor gets the same requests and must answer 200.
Requests go only to 127.0.0.1; the run stops by itself. Prints a Markdown table.
"""
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CASES = os.path.join(os.path.dirname(__file__), "..", "tests", "cases")
SETTINGS = "settings/seed-2-global-swap.json"


def pointer_path(pointer):
    return [int(p) if p.isdigit() else p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def set_path(obj, path, value):
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


def apply(obj, ops):
    obj = json.loads(json.dumps(obj))
    for op in ops:
        path = pointer_path(op["path"])
        if op["op"] == "remove":
            parent = obj
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
        else:
            set_path(obj, path, op["value"])
    return obj


def load_cases():
    cases = []
    for case in json.load(open(os.path.join(CASES, "admission.json"))):
        if case["settings"] != SETTINGS or case.get("lookups"):
            continue
        body = open(os.path.join(CASES, case["request"]), "rb").read()
        review = json.loads(body)
        obj = review["request"].get("object")
        expected = None
        if case.get("changes"):
            expected = json.loads(json.dumps(obj))
            for pointer, value in case["changes"].items():
                set_path(expected, pointer_path(pointer), value)
        cases.append((case["name"], body, case["allowed"], case.get("message"), obj, expected))
    return cases


def judge(case, status, answer):
    name, _, allowed, message, obj, expected = case
    if status != 200:
        return f"{name}: HTTP {status}"
    response = json.loads(answer)["response"]
    if response["allowed"] != allowed:
        return f"{name}: allowed={response['allowed']}"
    if (response.get("status") or {}).get("message") != message:
        return f"{name}: message {response.get('status')}"
    patch = response.get("patch")
    if expected is None:
        return f"{name}: unexpected patch" if patch else None
    if not patch or apply(obj, json.loads(base64.b64decode(patch))) != expected:
        return f"{name}: wrong patch"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


HOSTILE_SHARE = 50  # every 50th request (2 %) is a hostile Pod, in the run that mixes them in


def hostile_pod():
    """A tenant's Pod of 12 000 distinct images (about 400 KB): the shape that was quadratic."""
    containers = [{"name": f"c{i}", "image": f"quay.io/o{i}/app{i}:1"} for i in range(12_000)]
    review = json.load(open(os.path.join(CASES, "requests/pod-create.json")))
    review["request"]["object"]["spec"] = {"containers": containers}
    return json.dumps(review).encode()


def run(port, policy, cases, seconds, clients, check, pid, hostile=None):
    """Ordinary requests in turn; with `hostile`, every HOSTILE_SHARE-th is that body instead, and
    only the ordinary requests' latencies are reported (the hostile ones must get 200 and be
    allowed)."""
    latencies, errors, lock = [], [], threading.Lock()
    hostile_latencies = []
    deadline = time.monotonic() + seconds
    rss = [rss_kb(pid)]

    def client(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = index
        while time.monotonic() < deadline:
            case = cases[i % len(cases)]
            i += 1
            is_hostile = hostile is not None and i % HOSTILE_SHARE == 0
            body = hostile if is_hostile else case[1]
            started = time.perf_counter()
            try:
                conn.request("POST", f"/validate/{policy}", body=body, headers={"Content-Type": "application/json"})
                reply = conn.getresponse()
                status, body = reply.status, reply.read()
            except (OSError, http.client.HTTPException) as error:
                status, body = 0, str(error).encode()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            elapsed = time.perf_counter() - started
            if is_hostile:
                ok = status == 200 and json.loads(body)["response"]["allowed"]
                with lock:
                    hostile_latencies.append(elapsed)
                    if not ok:
                        errors.append(f"hostile Pod: HTTP {status} {body[:200]!r}")
                continue
            wrong = judge(case, status, body) if check else (None if status == 200 else f"HTTP {status}")
            with lock:
                latencies.append(elapsed)
                if wrong:
                    errors.append(wrong)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        rss.append(rss_kb(pid))
    latencies.sort()
    return {
        "requests": len(latencies),
        "throughput": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1e3,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        "errors": errors,
        "rss": (rss[0], max(rss), rss[-1]),
        "hostile": (len(hostile_latencies), max(hostile_latencies, default=0) * 1e3),
    }


def main():
    server, policy, floor = sys.argv[1:4]
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    clients = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    cases = load_cases()
    settings = json.load(open(os.path.join(CASES, SETTINGS)))
    work = tempfile.mkdtemp(prefix="imageswap-load-")
    with open(os.path.join(work, "policies.yml"), "w") as f:
        f.write(f"imageswap:\n  module: file://{os.path.abspath(policy)}\n  allowedToMutate: true\n  settings: {json.dumps(settings)}\n")
        f.write(f"floor:\n  module: file://{os.path.abspath(floor)}\n  allowedToMutate: true\n  settings: {{}}\n")
    port = free_port()
    for d in ("home", "dl", "sig"):
        os.makedirs(os.path.join(work, d))
    proc = subprocess.Popen(
        [server, "--policies", os.path.join(work, "policies.yml"), "--addr", "127.0.0.1", "--port", str(port),
         "--readiness-probe-port", str(free_port()), "--ignore-kubernetes-connection-failure", "--log-level", "warn",
         "--policies-download-dir", os.path.join(work, "dl"), "--sigstore-cache-dir", os.path.join(work, "sig")],
        env=dict(os.environ, HOME=os.path.join(work, "home")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.5)
        results = {}
        for name, check in (("imageswap", True), ("floor", False)):
            run(port, name, cases, 3, clients, check, proc.pid)  # warm-up
            results[name] = run(port, name, cases, seconds, clients, check, proc.pid)
        # The same mix through the trivial mutator (which rewrites every image, so its patch is as
        # large): what the policy-server itself costs on such Pods, whatever the policy.
        for name, check in (("imageswap", True), ("floor", False)):
            results[f"{name}, 2 % hostile Pods"] = run(port, name, cases, seconds, clients, check, proc.pid,
                                                       hostile=hostile_pod())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"policy-server on 127.0.0.1, {clients} client threads, {seconds} s per policy after a 3 s warm-up, "
          f"{len(cases)} kinds of request in turn (tests/cases/admission.json with {SETTINGS})\n")
    print("| policy | ordinary requests | throughput | p50 | p99 | wrong answers | hostile Pods (slowest) | server RSS start / peak / end |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, r in results.items():
        start, peak, end = r["rss"]
        count, slowest = r["hostile"]
        hostile = f"{count} ({slowest:.0f} ms)" if count else "–"
        print(f"| {name} | {r['requests']} | {r['throughput']:.0f} req/s | {r['p50']:.2f} ms | {r['p99']:.2f} ms | "
              f"{len(r['errors'])} | {hostile} | {start // 1024} / {peak // 1024} / {end // 1024} MiB |")
    for name in ("imageswap", "floor"):
        ratio = results[f"{name}, 2 % hostile Pods"]["p99"] / results[name]["p99"]
        print(f"\n{name}: p99 of ordinary requests with 2 % hostile Pods ÷ without: {ratio:.2f}×")
    wrong = [error for r in results.values() for error in r["errors"]]
    for error in sorted(set(wrong))[:10]:
        print(f"\nwrong: {error}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
