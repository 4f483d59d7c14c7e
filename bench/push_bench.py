"""Benchmark of review-state pushes: state updates → RQ workers → the fake WeChat API.

One run, side by side:
  A  the bot: `--updates` state changes (default 100,000: `--candidates` bound candidates ×
     rounds) committed through the registry, pushed by `--workers` `python -m bot worker`
     processes (as the Procfile runs them). Midway one worker is killed with SIGKILL (with its
     work horse) and restarted; afterwards every push the fake received is checked: each
     (报名号, version) exactly once — none lost, none duplicated.
  B  the bare send: the same number of worker processes posting template messages straight to
     the same fake WeChat API in a loop, no queue, no records. A/B is the cost of reliability.
Then a paced phase: `--paced` updates at `--rate` a second, for the time from a committed
update to the push arriving at WeChat (p50/p99) when the workers are not saturated.

Run from the repository root:  python -m bench.push_bench   (--help for the options)
Needs Linux (/proc for memory). Never touches a Redis on 6379: an embedded one is started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from bot.push import client_msg_id
from bot.redis_server import ensure_embedded, stop_embedded
from bot.registry.imports import RawRow
from bot.registry.updates import StateUpdate
from bot.services import Services
from bot.settings import load_settings
from bot.store import OfficeToken

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
TEMPLATE = "TPL_bench_review"
STATUSES = ("考点通过", "填报")


@dataclass
class Memory:
    """Peak resident memory seen per process family (a worker and its work horses)."""

    peaks_kb: dict[str, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def watch(self, families: dict[str, list[subprocess.Popen[bytes]]]) -> threading.Thread:
        def loop() -> None:
            while not self.stop.is_set():
                for name, procs in families.items():
                    total = sum(_tree_rss_kb(p.pid) for p in procs if p.poll() is None)
                    self.peaks_kb[name] = max(self.peaks_kb.get(name, 0), total)
                time.sleep(0.2)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread


def _tree_rss_kb(pid: int) -> int:
    """Proportional set size of a process and its children: pages a forked work horse shares
    with its worker are counted once between them, not once each as RSS would."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    kids = [int(x) for x in found]
    return kids + [g for k in kids for g in _children(k)]


class Fake:
    """The fake WeChat API in its own process, as WeChat is another machine."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.base = 0  # calls before the phase being waited for
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "fake-wechat", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                requests.get(self.url + "/_fake/calls?since=1000000000", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the fake WeChat API did not start")

    def count(self) -> int:
        return int(
            requests.get(self.url + "/_fake/calls?since=1000000000", timeout=10).json()["next"]
        )

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        got = requests.get(self.url + f"/_fake/calls?since={since}", timeout=120).json()
        return list(got["calls"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(data_dir: Path, redis_url: str, fake_url: str) -> dict[str, str]:
    scrubbed = {
        k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_", "PUSH_"))
    }
    return {
        **scrubbed,
        "WECHAT_TOKEN": secrets.token_hex(8),
        "WECHAT_APPID": "wx" + secrets.token_hex(8),
        "WECHAT_SECRET": secrets.token_hex(16),
        "WECHAT_API_BASE_URL": fake_url,
        "REGISTRY_SECRET": secrets.token_hex(32),
        "REVIEW_TEMPLATE_ID": TEMPLATE,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        # The bucket is measured by the tests; here it must not be what limits the rate.
        "PUSH_PER_SECOND": "10000",
        "PUSH_BACKOFF_SECONDS": "1,2,5,10",
        "LOG_LEVEL": "WARNING",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    sink = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        env=env,
        cwd=ROOT,
        stdout=sink,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: SIGKILL takes the work horse too
    )


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def seed(services: Services, candidates: int) -> tuple[OfficeToken, float, float]:
    """Imports and binds the candidates; returns the scope and the import and bind rates."""
    office = OfficeToken(office="bench", province="hebei", created_at=time.time())
    rows = [
        RawRow(
            i + 2,
            {
                "registration": f"2201{i:08d}",
                "name": "考生",
                "id_number": f"1301021990{i:08d}",
                "province": "hebei",
                "exam_point": "石家庄",
                "category": "临床执业医师",
            },
        )
        for i in range(candidates)
    ]
    started = time.perf_counter()
    report = services.registry.import_rows(rows, office)
    assert report.applied and report.created == candidates, report.problems[:3]
    import_rate = candidates / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(candidates):
        outcome = services.bindings.bind(f"o_bench_{i}", f"2201{i:08d}", "考生", f"{i:08d}"[-6:])
        assert outcome.kind == "bound", outcome
    return office, import_rate, candidates / (time.perf_counter() - started)


def updates_for(candidates: int, round_no: int) -> list[StateUpdate]:
    status = STATUSES[round_no % 2]
    return [
        StateUpdate(registration=f"2201{i:08d}", status=status, stage=f"第{round_no}轮")
        for i in range(candidates)
    ]


def commit(
    services: Services, office: OfficeToken, updates: list[StateUpdate], times: dict[str, float]
) -> None:
    """Commits in chunks of 1,000 (one API request's worth), noting each push's commit time."""
    for start in range(0, len(updates), 1000):
        results = services.registry.update_states(updates[start : start + 1000], office)
        now = time.time()
        for r in results:
            assert r.outcome == "changed", r
            times[client_msg_id(r.registration, f"v{r.version}")] = now


def outcomes(services: Services, candidates: int) -> dict[str, str]:
    """Every delivery's recorded outcome, by its client_msg_id: "sent", "skipped:superseded"…"""
    found: dict[str, str] = {}
    store = services.registry.store
    for start in range(0, candidates, 1000):
        regs = [f"2201{i:08d}" for i in range(start, min(start + 1000, candidates))]
        for reg in regs:
            for d in store.deliveries(reg):
                status = d.status + (f":{d.reason}" if d.status == "skipped" else "")
                found[client_msg_id(reg, d.key)] = status
    return found


SETTLED = ("sent", "failed", "skipped")


def wait_for(
    fake: Fake,
    services: Services,
    candidates: int,
    expected: dict[str, float],
    timeout: float,
    on_progress: Any = None,
) -> float:
    """Until every expected push has arrived, or (when arrivals stall) every one is settled:
    a change superseded while its push waited is skipped, by design, not lost."""
    deadline = time.monotonic() + timeout
    last, still_since = -1, time.monotonic()
    while (seen := fake.count()) < fake.base + len(expected):
        if on_progress is not None:
            on_progress(seen - fake.base)
        if seen != last:
            last, still_since = seen, time.monotonic()
        elif time.monotonic() - still_since > 5:
            found = outcomes(services, candidates)
            if all(found.get(k, "").startswith(SETTLED) for k in expected):
                break
            still_since = time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {seen - fake.base} of {len(expected)} after {timeout}s")
        time.sleep(0.2)
    return time.time()


def check(
    calls: list[dict[str, Any]], expected: dict[str, float], found: dict[str, str]
) -> dict[str, Any]:
    """Exactly one accepted, non-deduplicated send per expected push, or a recorded skip
    because a later change of the same candidate had already reached them."""
    sent = Counter(
        c["body"]["client_msg_id"]
        for c in calls
        if c["api"] == "template_send" and c["errcode"] == 0 and not c.get("deduplicated")
    )
    superseded = [k for k in expected if sent[k] == 0 and found.get(k) == "skipped:superseded"]
    lost = [k for k in expected if sent[k] == 0 and k not in superseded]
    duplicated = [k for k, n in sent.items() if n > 1]
    strangers = [k for k in sent if k not in expected]
    latencies = sorted(
        c["at"] - expected[c["body"]["client_msg_id"]]
        for c in calls
        if c["api"] == "template_send"
        and not c.get("deduplicated")
        and c["errcode"] == 0
        and c["body"]["client_msg_id"] in expected
    )
    return {
        "expected": len(expected),
        "delivered": sum(1 for k in expected if sent[k] >= 1),
        "superseded": len(superseded),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "unexpected": len(strangers),
        "deduplicated_by_wechat": sum(1 for c in calls if c.get("deduplicated")),
        "latency_p50_s": _pct(latencies, 50),
        "latency_p99_s": _pct(latencies, 99),
        "latency_max_s": latencies[-1] if latencies else None,
    }


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(len(values) * p / 100))]


BARE_SENDER = """
import sys, time, requests
url, token, n, offset = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = requests.Session()
for i in range(n):
    r = s.post(url + "/cgi-bin/message/template/send", params={"access_token": token},
               json={"touser": f"o_bare_{offset + i}", "template_id": "T", "data": {},
                     "client_msg_id": f"bare{offset + i}"}, timeout=10)
    assert r.json()["errcode"] == 0, r.text
"""


def bare_sends(fake: Fake, env: dict[str, str], processes: int, total: int) -> float:
    """B: the same fake, the same number of processes, posting with no queue: sends/s."""
    token = requests.get(
        fake.url + "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": "x", "secret": "y"},
        timeout=5,
    ).json()["access_token"]
    each = total // processes
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BARE_SENDER, fake.url, token, str(each), str(i * each)],
            env=env,
        )
        for i in range(processes)
    ]
    assert all(p.wait() == 0 for p in procs)
    return each * processes / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=100_000, help="a multiple of --candidates")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.3, help="kill a worker at this share")
    parser.add_argument("--paced", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=100.0, help="paced updates per second")
    parser.add_argument("--bare", type=int, default=20_000, help="B's sends")
    parser.add_argument("--timeout", type=float, default=1200.0)
    args = parser.parse_args()
    rounds = max(1, args.updates // args.candidates)

    tmp = Path(tempfile.mkdtemp(prefix="push-bench-"))
    sock = ensure_embedded(tmp / "redis")
    fake = Fake(dict(os.environ), free_port())
    env = environment(tmp / "var", f"unix://{sock}", fake.url)
    os.environ.update(env)  # this process's settings are the workers' settings
    services = Services(load_settings())
    memory = Memory()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        office, import_rate, bind_rate = seed(services, args.candidates)
        rates = f"import {import_rate:,.0f}/s, bind {bind_rate:,.0f}/s"
        print(f"seeded {args.candidates} candidates: {rates}")

        # -- A: the burst, with a worker killed and restarted ---------------------------------
        expected: dict[str, float] = {}
        log = tmp / "workers.log"
        workers = [start_worker(env, log) for _ in range(args.workers)]
        families = {"workers": workers}
        memory.watch(families)
        started = time.time()
        for r in range(rounds):
            commit(services, office, updates_for(args.candidates, r), expected)
        committed = time.time()
        total = len(expected)
        print(f"A: {total:,} updates committed in {committed - started:.1f}s")

        killed: dict[str, float] = {}

        def maybe_kill(seen: int) -> None:
            if not killed and seen >= total * args.kill_at:
                victim = workers[0]
                kill_group(victim)
                killed["at"] = time.time()
                killed["seen"] = seen
                time.sleep(1.0)
                workers[0] = start_worker(env, log)
                print(
                    f"A: killed worker 0 (SIGKILL, with its horse) at {seen:,} pushes; restarted"
                )

        finished = wait_for(fake, services, args.candidates, expected, args.timeout, maybe_kill)
        # Let a late duplicate (there should be none) show up before counting.
        time.sleep(3)
        burst_calls = fake.calls()
        burst = check(burst_calls, expected, outcomes(services, args.candidates))
        burst_rate = total / (finished - started)
        print(f"A: {json.dumps(burst, ensure_ascii=False)}")

        # -- paced: latency when the workers keep up -----------------------------------------
        paced_expected: dict[str, float] = {}
        per_tick = max(1, int(args.rate / 10))
        before = fake.count()
        sent = 0
        round_no = rounds
        while sent < args.paced:
            tick = time.monotonic()
            chunk = [
                StateUpdate(
                    registration=f"2201{(sent + i) % args.candidates:08d}",
                    status=STATUSES[round_no % 2],
                    stage=f"节奏{sent + i}",
                )
                for i in range(per_tick)
            ]
            commit(services, office, chunk, paced_expected)
            sent += per_tick
            time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
        fake.base = before
        wait_for(fake, services, args.candidates, paced_expected, args.timeout)
        time.sleep(1)
        paced = check(fake.calls(before), paced_expected, outcomes(services, args.candidates))
        print(f"paced: {json.dumps(paced, ensure_ascii=False)}")
        memory.stop.set()
        for w in workers:
            kill_group(w)
        workers = []

        # -- B: bare sends to the same fake --------------------------------------------------
        bare_rate = bare_sends(fake, env, args.workers, args.bare)
        info = services.redis.info("memory")
        result = {
            "updates": total,
            "workers": args.workers,
            "burst": {
                **burst,
                "pushes_per_s": round(burst_rate, 1),
                "killed_at_push": killed.get("seen"),
            },
            "paced": {**paced, "rate": args.rate},
            "bare_sends_per_s": round(bare_rate, 1),
            "ratio_a_to_b": round(burst_rate / bare_rate, 3),
            "worker_peak_pss_mb": round(memory.peaks_kb.get("workers", 0) / 1024, 1),
            "redis_peak_mb": round(int(info["used_memory_peak"]) / 2**20, 1),
            "import_per_s": round(import_rate),
            "bind_per_s": round(bind_rate),
            "cpus": os.cpu_count(),
        }
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"push-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
        print(json.dumps(result, ensure_ascii=False, indent=2))
        print(f"written to {out}")
        ok = burst["lost"] == burst["duplicated"] == paced["lost"] == paced["duplicated"] == 0
        return 0 if ok else 1
    finally:
        memory.stop.set()
        for w in workers:
            if w.poll() is None:
                kill_group(w)
        fake.stop()
        # Nothing here is worth saving: shut down without writing 100,000 jobs to disk.
        with contextlib.suppress(redis.RedisError):
            services.redis.shutdown(nosave=True)
        stop_embedded(tmp / "redis")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
