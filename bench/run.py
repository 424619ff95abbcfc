"""``make bench``: dragonhoard under load, beside a bare Pyramid "hello" app.

1. creates (or re-creates) a PostgreSQL database and migrates it;
2. seeds it (bench/seed.py);
3. serves production.ini with waitress on a loopback port, and the hello
   app on another, with the same number of threads;
4. drives each case with wrk from a separate process for a fixed time;
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
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
import webtest
from sqlalchemy.engine import make_url

from dragonhoard import application
from dragonhoard import main as make_dragonhoard
from dragonhoard.models import get_engine

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


def build_cases(seeded, rng: random.Random, count: int = 2000) -> list[Case]:
    pick = rng.choice
    published = seeded.published_ids
    bearer = [f"Authorization: Bearer {secret}" for secret, _owner in seeded.live_tokens]
    cookie = [f"Cookie: __Host-dh_session={secret}" for secret in seeded.sessions]
    mix = []
    for _ in range(count):
        if rng.random() < 0.05:
            secret, treasure = pick(seeded.writable)
            mix.append(line("PATCH", f"/api/treasures/{treasure}", f"Authorization: Bearer {secret}",
                            json.dumps({"value": rng.randint(0, 1000)})))
        else:
            mix.append(line("GET", f"/api/treasures/{pick(published)}", pick(bearer)))
    return [
        Case("anonymous item", [line("GET", f"/api/treasures/{pick(published)}") for _ in range(count)]),
        Case("session item", [line("GET", f"/api/treasures/{pick(published)}", pick(cookie))
                              for _ in range(count)]),
        Case("bearer item", [line("GET", f"/api/treasures/{pick(published)}", pick(bearer))
                             for _ in range(count)]),
        Case("bearer list per_page=50",
             [line("GET", "/api/treasures?per_page=50", pick(bearer)) for _ in range(count)]),
        Case("member project list",
             [line("GET", f"/api/projects/{slug}/treasures?per_page=50", f"Authorization: Bearer {secret}")
              for secret, slug in (pick(seeded.member_tokens) for _ in range(count))]),
        Case("mix with 5% writes", mix),
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


def run_wrk(wrk: str, url: str, requests_file: Path | None, seconds: int, connections: int,
            threads: int) -> tuple[float, float, float, int]:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if requests_file is not None:
        command += ["-s", str(ROOT / "bench" / "wrk" / "requests.lua"), url, "--", str(requests_file)]
    else:
        command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = parse_latency(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = parse_latency(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in socket_errors.groups())
    return rps, p50, p99, count


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
    }
    app = make_dragonhoard({}, **settings)
    client = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1",
                                                 "wsgi.url_scheme": "https", "HTTP_HOST": "localhost"})
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for text in case.lines[:samples]:
            method, path, header, body = text.split("\t")
            headers = dict([header.split(": ", 1)]) if header else {}
            kwargs = {"headers": headers, "status": "*"}
            if body:
                kwargs.update(body=body.encode(), content_type="application/json")
            client.request(path, method=method, **kwargs)  # warm: last use written
            with StatementLog(app.registry, Path(tmp)) as log:
                client.request(path, method=method, **kwargs)
            total += log.count
    application.dispose(application.of(app.registry))
    return total / samples


def first_use(base: str, case: Case) -> None:
    """Send every distinct request of the case once, one after the other.

    A token's last use is written at most once a minute: this writes it for
    every token of the case, so that the measured run shows the steady state
    (bench/README.md says what the first uses cost).
    """
    for text in dict.fromkeys(case.lines):
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


def bench_ini(port: int, threads: int) -> Path:
    text = (ROOT / "production.ini").read_text()
    text = re.sub(r"^listen = .*$", f"listen = 127.0.0.1:{port}", text, flags=re.M)
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
    header = f"{'case':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'vs anon':>8} {'vs hello':>9} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        vs_anon = f"{r.vs_anonymous:.2f}" if r.vs_anonymous is not None else ""
        vs_hello = f"{r.vs_hello:.2f}" if r.vs_hello is not None else ""
        statements = f"{r.statements:.1f}" if r.statements >= 0 else ""
        print(f"{r.case:28} {r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {statements:>8} "
              f"{vs_anon:>8} {vs_hello:>9} {r.errors:>7}")
    print()
    for budget in budgets:
        print(budget)


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
    for r in results:
        if r.case != "hello":
            verdict(r.p99_ms < 50, f"{r.case}: p99 {r.p99_ms:.1f} ms (< 50 ms)")
        if r.errors:
            verdict(False, f"{r.case}: {r.errors} non-2xx answers or socket errors")
    return lines


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
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of every case, interleaved; the median counts (default 2)")
    args = parser.parse_args(argv)

    wrk = ensure_wrk()
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
    cases = build_cases(seeded, rng)
    if args.cases:
        wanted = {c.strip() for c in args.cases.split(",")}
        cases = [c for c in cases if c.name in wanted or c.name == "anonymous item"]
    workdir = Path(tempfile.mkdtemp(prefix="dragonhoard-bench-"))

    env = dict(os.environ, DRAGONHOARD_DATABASE_URL=url, DRAGONHOARD_SECRET=SECRET)
    app_port, hello_port = free_port(), free_port()
    app_server = start([sys.executable, "-m", "pyramid.scripts.pserve",
                        str(bench_ini(app_port, args.threads))], env, workdir / "app.log")
    hello_server = start([sys.executable, "-m", "bench.hello", "--listen", f"127.0.0.1:{hello_port}",
                          "--threads", str(args.threads)], env, workdir / "hello.log")
    results: list[Result] = []
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz")
        wait_for(f"http://127.0.0.1:{hello_port}/")
        base = f"http://127.0.0.1:{app_port}"
        files = {}
        for case in cases:
            files[case.name] = workdir / f"{case.name.replace(' ', '_').replace('%', '')}.txt"
            files[case.name].write_text("\n".join(case.lines) + "\n")
            first_use(base, case)
        run_wrk(wrk, f"http://127.0.0.1:{hello_port}/", None, 2, args.connections, args.wrk_threads)
        runs: dict[str, list[tuple[float, float, float, int]]] = {}
        for round_number in range(args.rounds):
            # Interleaved rounds, so that a slow spell of the machine does not
            # land on one case only.
            runs.setdefault("hello", []).append(run_wrk(
                wrk, f"http://127.0.0.1:{hello_port}/", None, args.seconds, args.connections,
                args.wrk_threads))
            for case in cases:
                if round_number == 0:
                    run_wrk(wrk, base, files[case.name], 2, args.connections, args.wrk_threads)
                measured = run_wrk(wrk, base, files[case.name], args.seconds, args.connections,
                                   args.wrk_threads)
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
        stop(app_server)
        stop(hello_server)

    for result, case in zip(results[1:], cases, strict=True):
        result.statements = statements_per_request(url, case)
    anonymous = next(r for r in results if r.case == "anonymous item")
    hello = results[0]
    for r in results[1:]:
        r.vs_anonymous = r.rps / anonymous.rps
        r.vs_hello = r.rps / hello.rps
    budgets = check_budgets(results) if not args.cases else []
    print()
    print_table(results, budgets)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"seconds": args.seconds, "rounds": args.rounds, "connections": args.connections,
                     "waitress_threads": args.threads, "wrk_threads": args.wrk_threads},
        "results": [asdict(r) for r in results],
        "rounds": {name: [dict(zip(("rps", "p50_ms", "p99_ms", "errors"), m, strict=True))
                          for m in measured] for name, measured in runs.items()},
        "budgets": budgets,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWritten to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
