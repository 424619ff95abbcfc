"""``make bench``: dragonhoard under load, beside a bare Pyramid "hello" app.

1. creates (or re-creates) a PostgreSQL database and migrates it;
2. seeds it (bench/seed.py);
3. serves production.ini with waitress on a loopback port, and the hello
   app on another, with the same number of threads; and, for the cases that
   need them, a second production.ini process, one behind PgBouncer in
   transaction mode (``dragonhoard.db.pooler = pgbouncer``), and one whose
   connections commit without waiting for the WAL flush (the comparison for
   the "first use" case);
4. drives each case with wrk from a separate process for a fixed time (two
   wrk processes at once, one per port, for the two-process case);
5. prints a table (requests per second, p50/p99 latency, SQL statements per
   request, ratio to the anonymous case and to hello) and writes it as JSON
   to bench/results/latest.json; budgets are reported, not asserted.
   Every case runs ``--rounds`` times, interleaved with the others; the table
   shows the medians, and the JSON every round.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
import webtest
from sqlalchemy.engine import make_url

from dragonhoard import application
from dragonhoard import main as make_dragonhoard
from dragonhoard.models import get_engine
from dragonhoard.security import tokens

from . import touches
from .seed import seed
from .statements import StatementLog

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
#: The local server through its Unix socket, as an app on the same host would
#: reach it (loopback TCP costs more per round trip); --admin-url for others.
DEFAULT_ADMIN_URL = (
    "postgresql+psycopg://postgres@/test?host=/var/run/postgresql"
    if Path("/var/run/postgresql/.s.PGSQL.5432").exists()
    else "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECRET = "bench-secret-" + "b" * 40


@dataclass
class Case:
    name: str
    lines: list[str]
    #: The servers driven together, the connections shared between them.
    servers: tuple[str, ...] = ("app",)
    #: requests.lua picks lines at random; sequential.lua sends each once first.
    script: str = "requests.lua"
    #: Seconds per round (None: --seconds).
    seconds: int | None = None
    #: Send every line once before measuring (the last uses written).
    warm: bool = True
    #: Statements counted per request: "steady" (after a first use), "first"
    #: (a first use), or None (the same requests as another case).
    statements: str | None = "steady"
    #: Run before each measured run (the first-use cases forget last uses).
    before_run: Callable[[], None] | None = None


@dataclass
class Result:
    case: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    statements: float
    vs_anonymous: float | None = None
    vs_hello: float | None = None


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it from Debian (apt-get install wrk)", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                   stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is needed (apt-get install wrk)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(admin_url: str, name: str) -> str:
    dsn = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(dsn.render_as_string(False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(False)


def line(method: str, path: str, header: str = "", body: str = "") -> str:
    return "\t".join((method, path, header, body))


#: Live tokens kept apart for the first-use cases (each used once a run).
FIRST_USE_TOKENS = 8000
#: Seconds per round of a first-use case: fewer requests than it has tokens.
FIRST_USE_SECONDS = 3


def build_cases(seeded, rng: random.Random, count: int = 2000,
                forget_last_uses: Callable[[], None] | None = None) -> list[Case]:
    pick = rng.choice
    published = seeded.published_ids
    fresh = [secret for secret, _owner in seeded.live_tokens[-FIRST_USE_TOKENS:]]
    live = seeded.live_tokens[:-FIRST_USE_TOKENS]
    bearer = [f"Authorization: Bearer {secret}" for secret, _owner in live]
    cookie = [f"Cookie: __Host-dh_session={secret}" for secret in seeded.sessions]
    mix = []
    for _ in range(count):
        if rng.random() < 0.05:
            secret, treasure = pick(seeded.writable)
            mix.append(line("PATCH", f"/api/treasures/{treasure}", f"Authorization: Bearer {secret}",
                            json.dumps({"value": rng.randint(0, 1000)})))
        else:
            mix.append(line("GET", f"/api/treasures/{pick(published)}", pick(bearer)))
    bearer_item = [line("GET", f"/api/treasures/{pick(published)}", pick(bearer)) for _ in range(count)]
    first_use = [line("GET", f"/api/treasures/{pick(published)}", f"Authorization: Bearer {secret}")
                 for secret in fresh]
    first_use_case = {"script": "sequential.lua", "seconds": FIRST_USE_SECONDS, "warm": False,
                      "statements": "first", "before_run": forget_last_uses}
    return [
        Case("anonymous item", [line("GET", f"/api/treasures/{pick(published)}") for _ in range(count)]),
        Case("session item", [line("GET", f"/api/treasures/{pick(published)}", pick(cookie))
                              for _ in range(count)]),
        Case("bearer item", bearer_item),
        Case("bearer list per_page=50",
             [line("GET", "/api/treasures?per_page=50", pick(bearer)) for _ in range(count)]),
        Case("member project list",
             [line("GET", f"/api/projects/{slug}/treasures?per_page=50", f"Authorization: Bearer {secret}")
              for secret, slug in (pick(seeded.member_tokens) for _ in range(count))]),
        Case("mix with 5% writes", mix),
        # The same requests as "bearer item", on two processes at once.
        Case("bearer item on 2 processes", bearer_item, servers=("app", "app2"), warm=False,
             statements=None),
        Case("bearer item via PgBouncer", bearer_item, servers=("pgbouncer",), warm=False),
        # What of that is the pooler setting (no prepared statements) alone.
        Case("bearer item without prepared statements", bearer_item, servers=("no-prepare",),
             warm=False),
        # Every request a token's first use in a minute: one more statement,
        # the last-used touch, whose commit waits for the WAL flush...
        Case("bearer item as a first use", first_use, **first_use_case),
        # ... which the read pool's startup option used to skip.
        Case("first use without the WAL wait", first_use, servers=("sync-off",), **first_use_case),
    ]


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer in {timeout} s")


Measured = tuple[float, float, float, int]  # req/s, p50 ms, p99 ms, errors


def wrk_command(wrk: str, url: str, requests_file: Path | None, seconds: int, connections: int,
                threads: int, script: str = "requests.lua") -> list[str]:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if requests_file is None:
        return [*command, url]
    return [*command, "-s", str(ROOT / "bench" / "wrk" / script), url, "--", str(requests_file),
            str(threads)]


def parse_wrk(output: str) -> Measured:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = parse_latency(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = parse_latency(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in socket_errors.groups())
    return rps, p50, p99, count


def run_wrk(wrk: str, url: str, requests_file: Path | None, seconds: int, connections: int,
            threads: int, script: str = "requests.lua") -> Measured:
    command = wrk_command(wrk, url, requests_file, seconds, connections, threads, script)
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def run_together(wrk: str, urls: list[str], requests_file: Path, seconds: int, connections: int,
                 threads: int, script: str = "requests.lua") -> Measured:
    """One wrk per URL at the same time, the connections and threads shared
    out: the requests per second add up; p50 and p99 are the worst of them."""
    share_c, share_t = max(1, connections // len(urls)), max(1, threads // len(urls))
    running = [subprocess.Popen(wrk_command(wrk, url, requests_file, seconds, share_c, share_t, script),
                                stdout=subprocess.PIPE, text=True) for url in urls]
    measured = [parse_wrk(process.communicate()[0]) for process in running]
    return (sum(m[0] for m in measured), max(m[1] for m in measured), max(m[2] for m in measured),
            sum(m[3] for m in measured))


def parse_latency(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def statements_per_request(database_url: str, case: Case, samples: int = 20) -> float:
    """Each case's requests replayed in-process, counting statements."""
    settings = {
        "sqlalchemy.url": database_url,
        "dragonhoard.environment": "production",
        "dragonhoard.secret": SECRET,
        "tm.annotate_user": "false",
        # Production refuses an http origin (DESIGN section 14).
        "dragonhoard.webauthn.rp_id": "localhost",
        "dragonhoard.webauthn.origin": "https://localhost",
    }
    app = make_dragonhoard({}, **settings)
    client = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1",
                                                 "wsgi.url_scheme": "https", "HTTP_HOST": "localhost"})
    total = 0
    if case.before_run is not None:
        case.before_run()
    with tempfile.TemporaryDirectory() as tmp:
        for text in case.lines[:samples]:
            method, path, header, body = text.split("\t")
            headers = dict([header.split(": ", 1)]) if header else {}
            kwargs = {"headers": headers, "status": "*"}
            if body:
                kwargs.update(body=body.encode(), content_type="application/json")
            if case.statements == "steady":
                client.request(path, method=method, **kwargs)  # warm: last use written
            with StatementLog(app.registry, Path(tmp)) as log:
                client.request(path, method=method, **kwargs)
            total += log.count
    application.dispose(application.of(app.registry))
    return total / samples


def first_use(base: str, case: Case, workers: int = 4) -> None:
    """Send every distinct request of the case once (a few at a time).

    A token's last use is written at most once a minute: this writes it for
    every token of the case, so that the measured run shows the steady state
    (the "first use" cases measure what the first uses cost).
    """
    def send(text: str) -> None:
        method, path, header, body = text.split("\t")
        request = urllib.request.Request(base + path, method=method, data=body.encode() or None)
        if header:
            name, value = header.split(": ", 1)
            request.add_header(name, value)
        if body:
            request.add_header("Content-Type", "application/json")
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError:
            pass

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(send, dict.fromkeys(case.lines)))


def bench_ini(port: int, threads: int, pooler: str = "none") -> Path:
    text = (ROOT / "production.ini").read_text()
    text = re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{port}", text, flags=re.M)
    text = re.sub(r"^dragonhoard.db.pooler = .*$", f"dragonhoard.db.pooler = {pooler}", text, flags=re.M)
    text = re.sub(r"^threads = .*$", f"threads = {threads}", text, flags=re.M)
    text = re.sub(r"^sqlalchemy.pool_size = .*$", f"sqlalchemy.pool_size = {threads}", text, flags=re.M)
    text = text.replace("%(here)s", str(ROOT))
    path = Path(tempfile.mkdtemp(prefix="dragonhoard-bench-")) / "bench.ini"
    path.write_text(text)
    return path


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(command, env=env, stdout=handle, stderr=handle, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def print_table(results: list[Result], budgets: list[str]) -> None:
    header = f"{'case':36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'vs anon':>8} {'vs hello':>9} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        vs_anon = f"{r.vs_anonymous:.2f}" if r.vs_anonymous is not None else ""
        vs_hello = f"{r.vs_hello:.2f}" if r.vs_hello is not None else ""
        statements = f"{r.statements:.1f}" if r.statements >= 0 else ""
        print(f"{r.case:36} {r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {statements:>8} "
              f"{vs_anon:>8} {vs_hello:>9} {r.errors:>7}")
    print()
    for budget in budgets:
        print(budget)


#: Two processes on this 2-core machine, against one (bearer item GET).
TWO_PROCESS_GOAL = 1.6


def check_budgets(results: list[Result]) -> list[str]:
    by = {r.case: r for r in results}
    anon, bearer, hello = by["anonymous item"], by["bearer item"], by["hello"]
    lines = []

    def verdict(ok: bool, text: str) -> None:
        lines.append(f"[{'met' if ok else 'MISSED'}] {text}")

    for name in ("session item", "bearer item"):
        r = by[name]
        verdict(r.statements <= 1.0 + 1.0 + 1e-9,
                f"{name}: {r.statements:.1f} statements a request (authentication 1 + the context 1)")
        verdict(r.rps >= 0.85 * anon.rps, f"{name}: {r.rps / anon.rps:.0%} of the anonymous case (>= 85%)")
    verdict(bearer.rps >= 500, f"bearer item: {bearer.rps:.0f} req/s (>= 500)")
    verdict(bearer.rps >= 0.25 * hello.rps, f"bearer item: {bearer.rps / hello.rps:.2f}x hello (>= 0.25x)")
    for name in ("bearer list per_page=50", "member project list"):
        r = by[name]
        verdict(r.rps * 2 >= bearer.rps, f"{name}: {r.rps / bearer.rps:.2f}x the item (>= 0.5x)")
    two = by["bearer item on 2 processes"]
    verdict(two.rps >= TWO_PROCESS_GOAL * bearer.rps,
            f"bearer item on 2 processes: {two.rps / bearer.rps:.2f}x one process (>= {TWO_PROCESS_GOAL}x)")
    for r in results:
        if r.case != "hello":
            verdict(r.p99_ms < 50, f"{r.case}: p99 {r.p99_ms:.1f} ms (< 50 ms)")
        if r.errors:
            verdict(False, f"{r.case}: {r.errors} non-2xx answers or socket errors")
    return lines


def notes(results: list[Result]) -> list[str]:
    """What the deployment cases say, beside the budgets."""
    by = {r.case: r for r in results}
    bearer = by.get("bearer item")
    lines = []
    if bearer is None:
        return lines
    for name in ("bearer item on 2 processes", "bearer item via PgBouncer",
                 "bearer item without prepared statements", "bearer item as a first use",
                 "first use without the WAL wait"):
        if name in by:
            r = by[name]
            lines.append(f"{name}: {r.rps / bearer.rps:.2f}x the bearer item on one process"
                         f" (p99 {r.p99_ms:.1f} ms against {bearer.p99_ms:.1f})")
    return lines


def forgetter(url: str, secrets: list[str]) -> Callable[[], None]:
    """Forget the last uses of these tokens, so that each next use is a first
    use again (the touch is written at most once a minute)."""
    hashes = [tokens.hash_token(secret) for secret in secrets]
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)

    def forget() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE api_tokens SET last_used_at = NULL, last_used_ip = NULL"
                         " WHERE token_hash = ANY(%s)", [hashes])
            conn.execute("VACUUM api_tokens")

    return forget


class Servers:
    """The app processes (and PgBouncer) the chosen cases drive, by name."""

    def __init__(self, names: set[str], url: str, threads: int, workdir: Path) -> None:
        self.urls: dict[str, str] = {}
        self._processes: list[subprocess.Popen] = []
        self._bouncer = None
        self._env = dict(os.environ, DRAGONHOARD_SECRET=SECRET)
        self._threads, self._workdir = threads, workdir
        try:
            for name in sorted(names):
                self._start(name, url)
            for name, base in self.urls.items():
                wait_for(base + ("/" if name == "hello" else "/healthz"))
        except BaseException:
            self.stop()
            raise

    def _start(self, name: str, url: str) -> None:
        port = free_port()
        self.urls[name] = f"http://127.0.0.1:{port}"
        if name == "hello":
            command = [sys.executable, "-m", "bench.hello", "--listen", f"127.0.0.1:{port}",
                       "--threads", str(self._threads)]
            self._processes.append(start(command, self._env, self._workdir / "hello.log"))
            return
        pooler = "none"
        if name == "pgbouncer":
            url, pooler = self._through_pgbouncer(url), "pgbouncer"
        elif name == "no-prepare":
            pooler = "pgbouncer"  # the setting, on a direct connection
        elif name == "sync-off":
            # The startup option the read pool had before PgBouncer: commits
            # that do not wait for the WAL flush (the comparison only).
            url = make_url(url).update_query_dict({"options": "-c synchronous_commit=off"})
            url = url.render_as_string(False)
        command = [sys.executable, "-m", "pyramid.scripts.pserve",
                   str(bench_ini(port, self._threads, pooler))]
        env = dict(self._env, DRAGONHOARD_DATABASE_URL=url)
        self._processes.append(start(command, env, self._workdir / f"{name}.log"))

    def _through_pgbouncer(self, url: str) -> str:
        """README's PgBouncer in front of the bench's server; the app reaches
        it through its Unix socket, as it reaches PostgreSQL directly."""
        from tests.deploy_pgbouncer import PgBouncer

        parsed = make_url(url)
        host = parsed.query.get("host") or parsed.host or "127.0.0.1"
        users = {parsed.username or "postgres": parsed.password or ""}
        self._bouncer = PgBouncer(host, parsed.port or 5432, users, timezone=None).start()
        return parsed.set(host=None, port=None).update_query_dict(
            {"host": str(self._bouncer.dir), "port": str(self._bouncer.port)}).render_as_string(False)

    def stop(self) -> None:
        for process in self._processes:
            stop(process)
        if self._bouncer is not None:
            self._bouncer.remove()


def measure(wrk: str, servers: Servers, case: Case, path: Path, seconds: int, args) -> Measured:
    urls = [servers.urls[name] for name in case.servers]
    if case.before_run is not None:
        case.before_run()
    if len(urls) == 1:
        return run_wrk(wrk, urls[0], path, seconds, args.connections, args.wrk_threads, case.script)
    return run_together(wrk, urls, path, seconds, args.connections, args.wrk_threads, case.script)


def measure_touches(url: str, count: int) -> list[dict]:
    """bench/touches.py on tokens no case uses (the expired ones)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as conn:
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM api_tokens WHERE expires_at < now() ORDER BY id LIMIT %s",
            [count * len(touches.VARIANTS)])]
    return touches.measure(dsn, ids, count)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="per case and round (default 8)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="waitress threads (default 4)")
    parser.add_argument("--admin-url", default=os.environ.get("DRAGONHOARD_BENCH_POSTGRES_URL",
                                                              DEFAULT_ADMIN_URL))
    parser.add_argument("--database", default="dragonhoard_bench")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--touches", type=int, default=300,
                        help="touches per variant in the touch cost measurement (default 300)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of every case, interleaved; the median counts (default 3)")
    args = parser.parse_args(argv)

    wrk = ensure_wrk()
    began = time.monotonic()
    print(f"Creating and seeding {args.database} ...", flush=True)
    url = create_database(args.admin_url, args.database)
    from dragonhoard.cli.initdb import upgrade

    engine = get_engine({"sqlalchemy.url": url})
    upgrade(str(ROOT / "production.ini"), engine)
    engine.dispose()
    started = time.monotonic()
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as conn:
        seeded = seed(conn)
    print(f"Seeded in {time.monotonic() - started:.0f} s.", flush=True)

    rng = random.Random(42)
    fresh = [secret for secret, _owner in seeded.live_tokens[-FIRST_USE_TOKENS:]]
    cases = build_cases(seeded, rng, forget_last_uses=forgetter(url, fresh))
    if args.cases:
        wanted = {c.strip() for c in args.cases.split(",")}
        cases = [c for c in cases if c.name in wanted or c.name in ("anonymous item", "bearer item")]
    workdir = Path(tempfile.mkdtemp(prefix="dragonhoard-bench-"))

    servers = Servers({"hello", *(name for case in cases for name in case.servers)}, url,
                      args.threads, workdir)
    results: list[Result] = []
    runs: dict[str, list[Measured]] = {}
    try:
        files = {}
        for case in cases:
            files[case.name] = workdir / f"{re.sub(r'[^A-Za-z0-9]+', '_', case.name)}.txt"
            files[case.name].write_text("\n".join(case.lines) + "\n")
            if case.warm:
                first_use(servers.urls[case.servers[0]], case)
        hello = servers.urls["hello"] + "/"
        run_wrk(wrk, hello, None, 2, args.connections, args.wrk_threads)
        for round_number in range(args.rounds):
            # Interleaved rounds, so that a slow spell of the machine does not
            # land on one case only.
            runs.setdefault("hello", []).append(run_wrk(
                wrk, hello, None, args.seconds, args.connections, args.wrk_threads))
            for case in cases:
                seconds = min(case.seconds or args.seconds, args.seconds)
                if round_number == 0:
                    measure(wrk, servers, case, files[case.name], 2, args)
                measured = measure(wrk, servers, case, files[case.name], seconds, args)
                print(f"  round {round_number + 1}, {case.name}: {measured[0]:.0f} req/s", flush=True)
                runs.setdefault(case.name, []).append(measured)
        for name in ["hello", *(case.name for case in cases)]:
            measured = runs[name]
            results.append(Result(
                name,
                rps=statistics.median(m[0] for m in measured),
                p50_ms=statistics.median(m[1] for m in measured),
                p99_ms=statistics.median(m[2] for m in measured),
                errors=sum(m[3] for m in measured),
                statements=-1,
            ))
    finally:
        servers.stop()

    for result, case in zip(results[1:], cases, strict=True):
        if case.statements is not None:
            result.statements = statements_per_request(url, case)
    anonymous = next(r for r in results if r.case == "anonymous item")
    hello_result = results[0]
    for r in results[1:]:
        r.vs_anonymous = r.rps / anonymous.rps
        r.vs_hello = r.rps / hello_result.rps
    budgets = check_budgets(results) if not args.cases else []
    remarks = notes(results)
    touch_costs = measure_touches(url, args.touches)
    print()
    print_table(results, budgets)
    print()
    for remark in remarks:
        print(remark)
    print()
    touches.print_results(touch_costs)
    elapsed = time.monotonic() - began
    print(f"\nThe whole run took {elapsed:.0f} s.")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"seconds": args.seconds, "rounds": args.rounds, "connections": args.connections,
                     "waitress_threads": args.threads, "wrk_threads": args.wrk_threads},
        "results": [asdict(r) for r in results],
        "rounds": {name: [dict(zip(("rps", "p50_ms", "p99_ms", "errors"), m, strict=True))
                          for m in measured] for name, measured in runs.items()},
        "budgets": budgets,
        "notes": remarks,
        "touches": touch_costs,
        "elapsed_seconds": round(elapsed),
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"Written to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
