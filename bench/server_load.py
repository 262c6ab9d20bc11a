"""Replay server under load: requests per second and p50/p99 latency, against an established mock server.

    python bench/server_load.py            # full run (about two minutes)
    python bench/server_load.py --quick    # a quarter of the requests, one round

What it does, all on 127.0.0.1:

- starts the replay server as users do, ``python -m helpers.mock serve --port 0 --rpm 0 --tpm 0``;
- starts Mockoon (``@mockoon/cli``, a widely used mock API server, Node.js) serving the same two
  recorded answers for the same requests, matched by rules on the request body and the key. It is
  installed on first use with npm into ``build/bench-tools/`` (git-ignored); without npm that column
  is skipped;
- starts Prism (``@stoplight/prism-cli``, a mock server generated from an OpenAPI document, Node.js),
  installed the same way into ``build/bench-tools/prism/``, on a minimal OpenAPI 3.0 document written
  here (``prism_document``: POST /<deployment>/chat/completions, the request body's schema, the key as
  a bearer security scheme, the recorded answer as the example). Prism validates each request against
  the document, then answers with the example; it chooses a response by path, method and headers, not
  by a field of the body, so it cannot answer ``"stream": true`` with the stream: it is measured on the
  non-streamed request only;
- for the basic request (non-streamed) and the streamed request, at 1, 10 and 100 concurrent
  clients, sends a fixed number of requests from a separate process (``bench/loadgen.py``: closed
  loop, keep-alive connections, httptools + uvloop) to each server in turn, alternating which goes
  first, for several rounds; medians over the rounds are reported, and the ratio is taken per round
  (both servers measured minutes apart on a noisy machine would not be comparable);
- measures the load generator's own ceiling against ``bench/null_server.py`` (answers with fixed
  bytes), and, when ``wrk`` is installed, cross-checks one configuration with wrk (C, time-bounded).

Both servers are single processes; each client waits for its answer before sending the next request.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from _common import (
    BASIC_BODY,
    BENCH,
    DEMO_KEY,
    DEPLOYMENT,
    RECORDINGS,
    ROOT,
    STREAM_BODY,
    ReplayProcess,
    ServerProcess,
    cpu_seconds,
    dumps,
    fmt,
    free_port,
    machine,
    median,
    python,
    table,
    temp_dir,
    wait_for_port,
    write_result,
)

PATH = f"/{DEPLOYMENT}/chat/completions"
AUTH = f"authorization: Bearer {DEMO_KEY}"
TOOLS = ROOT / "build" / "bench-tools"
MOCKOON_VERSION = "9.9.0"
MOCKOON = TOOLS / "node_modules" / ".bin" / "mockoon-cli"
# Prism 5.15 and later need Node.js 24.14+; 5.14.2 is the newest that runs on the Node.js 20 the project supports.
PRISM_VERSION = "5.14.2"
PRISM_DIR = TOOLS / "prism"
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"
PEERS = ("Mockoon", "Prism")
# measured requests per run, by (mode, clients)
COUNTS = {
    ("non-streamed", 1): 2000,
    ("non-streamed", 10): 4000,
    ("non-streamed", 100): 6000,
    ("streamed", 1): 400,
    ("streamed", 10): 800,
    ("streamed", 100): 1500,
}
MODES = {"non-streamed": (BASIC_BODY, "7,000 languages"), "streamed": (STREAM_BODY, "[DONE]")}
GOAL = {"rps": 2000, "p99_ms": 10.0, "peer_ratio": 3.0}  # non-streamed, 10 clients; peer_ratio: against the best peer


# -- the answers, exactly as the replay server sends them ---------------------------------------
def recorded_answers() -> tuple[bytes, bytes]:
    folder = RECORDINGS / DEPLOYMENT
    basic = json.loads((folder / "how-many-languages.json").read_text(encoding="utf-8"))["response"]["body"]
    stream = json.loads((folder / "how-many-languages-stream.json").read_text(encoding="utf-8"))["response"]["stream"]
    sse = "".join(f"data: {e['data'] if isinstance(e['data'], str) else dumps(e['data'])}\n\n" for e in stream)
    return json.dumps(
        basic, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode(), sse.encode()


# -- Mockoon and Prism -----------------------------------------------------------------------
def ensure_npm_tool(name: str, package: str, folder: Path, binary: Path, install: bool) -> Path | None:
    """``binary`` of the npm ``package`` (name@version), installed into ``folder`` once; None when it cannot be."""
    if binary.exists():
        return binary
    if not install or not shutil.which("npm"):
        return None
    print(f"installing {package} into {folder.relative_to(ROOT)} (once) ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    command = ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel", "error", package]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        print(f"npm install failed, skipping {name}: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return binary if binary.exists() else None


def ensure_mockoon(install: bool) -> Path | None:
    return ensure_npm_tool("Mockoon", f"@mockoon/cli@{MOCKOON_VERSION}", TOOLS, MOCKOON, install)


def ensure_prism(install: bool) -> Path | None:
    return ensure_npm_tool("Prism", f"@stoplight/prism-cli@{PRISM_VERSION}", PRISM_DIR, PRISM, install)


def prism_document(basic: bytes) -> dict[str, Any]:
    """A minimal OpenAPI 3.0 document for the benchmark's request: Prism checks the body and the key, answers the
    example."""
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"type": "string", "enum": ["system", "user", "assistant"]},
            "content": {"type": "string"},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "llama-replay-bench (chat completions, minimal)", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "security": [{"key": []}],
        "paths": {
            PATH: {
                "post": {
                    "operationId": "chatCompletions",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["messages"],
                                    "properties": {
                                        "messages": {"type": "array", "minItems": 1, "items": message},
                                        "stream": {"type": "boolean"},
                                        "temperature": {"type": "number"},
                                        "top_p": {"type": "number"},
                                        "max_tokens": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the recorded answer",
                            "content": {"application/json": {"example": json.loads(basic)}},
                        },
                        "401": {"description": "no key"},
                    },
                }
            }
        },
    }


def mockoon_process(mockoon: Path, env_file: Path, port: int, cwd: Path) -> "Proc":
    """Mockoon serving the data file ``env_file`` on 127.0.0.1:``port``, without its log file and admin API."""
    command = ["start", "--data", str(env_file), "--port", str(port), "--hostname", "127.0.0.1"]
    return Proc([str(mockoon), *command, "--disable-log-to-file", "--disable-admin-api"], port, cwd)


def mockoon_environment(port: int, basic: bytes, sse: bytes) -> dict[str, Any]:
    """A Mockoon data file: one POST route, two responses chosen by rules on the body and the key."""
    question = BASIC_BODY["messages"][1]["content"]

    def rule(target: str, modifier: str, value: str, operator: str = "equals") -> dict[str, Any]:
        return {"target": target, "modifier": modifier, "value": value, "invert": False, "operator": operator}

    def response(label: str, body: bytes, ctype: str, rules: list[dict[str, Any]], recording: str) -> dict[str, Any]:
        return {
            "uuid": str(uuid.uuid4()),
            "label": label,
            "statusCode": 200,
            "latency": 0,
            "headers": [
                {"key": "content-type", "value": ctype},
                {"key": "x-replay-recording", "value": f"{DEPLOYMENT}/{recording}"},
                {"key": "x-replay-provenance", "value": "documented-example"},
            ],
            "body": body.decode(),
            "bodyType": "INLINE",
            "filePath": "",
            "databucketID": "",
            "sendFileAsBody": False,
            "rules": rules,
            "rulesOperator": "AND",
            "disableTemplating": True,
            "fallbackTo404": False,
            "default": False,
            "crudKey": "id",
            "callbacks": [],
        }

    key_rule = rule("header", "authorization", f"Bearer {DEMO_KEY}")
    route_id = str(uuid.uuid4())
    route = {
        "uuid": route_id,
        "type": "http",
        "documentation": "replay of two recordings",
        "method": "post",
        "endpoint": PATH.lstrip("/"),
        "responseMode": "FALLBACK",
        "streamingMode": None,
        "streamingInterval": 0,
        "responses": [
            response(
                "streamed",
                sse,
                "text/event-stream",
                [rule("body", "stream", "true"), rule("body", "messages.1.content", question), key_rule],
                "how-many-languages-stream",
            ),
            response(
                "basic",
                basic,
                "application/json",
                [rule("body", "stream", "", "null"), rule("body", "messages.1.content", question), key_rule],
                "how-many-languages",
            ),
        ],
    }
    return {
        "uuid": str(uuid.uuid4()),
        "lastMigration": 33,
        "name": "llama-replay-bench",
        "endpointPrefix": "",
        "latency": 0,
        "port": port,
        "hostname": "127.0.0.1",
        "folders": [],
        "routes": [route],
        "rootChildren": [{"type": "route", "uuid": route_id}],
        "proxyMode": False,
        "proxyHost": "",
        "proxyRemovePrefix": False,
        "tlsOptions": {
            "enabled": False,
            "type": "CERT",
            "pfxPath": "",
            "certPath": "",
            "keyPath": "",
            "caPath": "",
            "passphrase": "",
        },
        "cors": False,
        "headers": [],
        "proxyReqHeaders": [],
        "proxyResHeaders": [],
        "data": [],
        "callbacks": [],
    }


class Proc(ServerProcess):
    """A server subprocess on a known port."""

    def __init__(self, cmd: list[str], port: int, cwd: Path) -> None:
        self.port = port
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port)
        except RuntimeError:
            self.stop()
            raise


# -- one measurement --------------------------------------------------------------------------
def load(port: int, pid: int, mode: str, clients: int, requests: int, expect: str | None = None) -> dict[str, Any]:
    body, expected = MODES[mode]
    expect = expect or expected
    cmd = [
        python(),
        str(BENCH / "loadgen.py"),
        "--port",
        str(port),
        "--path",
        PATH,
        "--body",
        dumps(body),
        "--header",
        AUTH,
        "--connections",
        str(clients),
        "--requests",
        str(requests),
        "--warmup",
        str(max(50, requests // 10)),
        "--expect",
        expect,
        "--max-seconds",
        "120",
    ]
    cpu0 = cpu_seconds(pid)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    cpu1 = cpu_seconds(pid)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr.strip()[-1500:]}")
    result = json.loads(done.stdout)
    ok = result["statuses"].get("200", 0)
    if ok != result["requests"] or not result["sample_ok"] or result["timed_out"]:
        raise RuntimeError(
            f"unexpected answers from port {port}: {result['statuses']}, sample {result['sample'][:200]!r}"
        )
    # CPU over the whole loadgen process life (warm-up included): a share of one core.
    result["server_cpu"] = (cpu1 - cpu0) / max(1e-9, result["seconds"] * (1 + max(50, requests // 10) / requests))
    result["loadgen_cpu"] = result["loadgen_cpu_seconds"] / result["seconds"]
    return result


def wrk_check(port: int, clients: int, seconds: int = 3) -> dict[str, Any] | None:
    """One time-bounded wrk run (if wrk is installed): requests/s and latency percentiles."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    with temp_dir("bench-wrk-") as tmp:
        script = tmp / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(dumps(BASIC_BODY))}\n"
            'wrk.headers["content-type"] = "application/json"\n'
            f'wrk.headers["authorization"] = "Bearer {DEMO_KEY}"\n'
        )
        done = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{clients}",
                f"-d{seconds}s",
                "--timeout",
                "2s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}{PATH}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
    out = done.stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(bad.group(1)) if bad else 0,
    }


# -- the run ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a quarter of the requests and one round")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per configuration (default 3)")
    p.add_argument("--clients", default="1,10,100", help="concurrent clients, comma-separated")
    p.add_argument("--no-competitor", action="store_true", help="skip Mockoon and Prism")
    p.add_argument("--no-install", action="store_true", help="do not npm-install Mockoon or Prism when missing")
    args = p.parse_args(argv)
    scale, rounds = (0.25, 1) if args.quick else (1.0, args.rounds)
    clients_list = [int(c) for c in args.clients.split(",")]
    info = machine()

    mockoon = None if args.no_competitor else ensure_mockoon(install=not args.no_install)
    prism = None if args.no_competitor else ensure_prism(install=not args.no_install)
    basic, sse = recorded_answers()
    servers: dict[str, Any] = {}
    notes: list[str] = []
    with temp_dir("bench-load-") as tmp:
        try:
            servers["replay server"] = ReplayProcess("--rpm", "0", "--tpm", "0")
            if mockoon:
                port = free_port()
                env_file = tmp / "mockoon.json"
                env_file.write_text(json.dumps(mockoon_environment(port, basic, sse)), encoding="utf-8")
                servers["Mockoon"] = mockoon_process(mockoon, env_file, port, tmp)
                version = (
                    subprocess.run([str(mockoon), "--version"], capture_output=True, text=True)
                    .stdout.strip()
                    .splitlines()
                )
                notes.append(
                    f"competitor: Mockoon CLI ({version[0] if version else MOCKOON_VERSION}), Node.js "
                    f"{subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}"
                )
            else:
                notes.append("competitor: skipped (Mockoon not installed and npm not available, or --no-competitor)")
            if prism:
                port = free_port()
                doc = tmp / "openapi.json"
                doc.write_text(json.dumps(prism_document(basic)), encoding="utf-8")
                servers["Prism"] = Proc(
                    [
                        str(prism),
                        "mock",
                        str(doc),
                        "--port",
                        str(port),
                        "--host",
                        "127.0.0.1",
                        "--verboseLevel",
                        "silent",
                        "--cors",
                        "false",
                    ],
                    port,
                    tmp,
                )
                version = subprocess.run([str(prism), "--version"], capture_output=True, text=True).stdout.strip()
                notes.append(
                    f"competitor: Prism (@stoplight/prism-cli {version or PRISM_VERSION}, `prism mock`, logging "
                    "silent, CORS off) on a minimal OpenAPI 3.0 document written by this script (no registry package "
                    "ships the chat completions API as an OpenAPI file for this path): POST "
                    "/<deployment>/chat/completions, the body's schema, a bearer key, the recorded answer as the "
                    "example. Prism validates every request against it (a body without `messages` is refused with "
                    "422, a request without a key with 401; any bearer key passes: OpenAPI declares the scheme, not "
                    "the value) and answers with the example"
                )
            else:
                notes.append("competitor: Prism skipped (not installed and npm not available, or --no-competitor)")
            (tmp / "basic.json").write_bytes(basic)
            null_port = free_port()
            servers["null server"] = Proc(
                [
                    python(),
                    str(BENCH / "null_server.py"),
                    "--port",
                    str(null_port),
                    "--body-file",
                    str(tmp / "basic.json"),
                ],
                null_port,
                ROOT,
            )

            stack_port = free_port()
            servers["bare stack"] = Proc(
                [
                    python(),
                    str(BENCH / "stack_server.py"),
                    "--port",
                    str(stack_port),
                    "--body-file",
                    str(tmp / "basic.json"),
                ],
                stack_port,
                ROOT,
            )

            results: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
            contenders = [name for name in ("replay server", *PEERS) if name in servers]
            for mode in MODES:
                for clients in clients_list:
                    n = max(100, int(COUNTS[(mode, clients)] * scale))
                    for r in range(rounds):
                        order = contenders if r % 2 == 0 else contenders[::-1]
                        for name in order:
                            if name == "Prism" and mode == "streamed":
                                continue  # Prism cannot choose the stream by the body's "stream" field
                            srv = servers[name]
                            res = load(srv.port, srv.pid, mode, clients, n)
                            results.setdefault((mode, clients, name), []).append(res)
                            print(
                                f"{mode:12} c={clients:<3} round {r + 1} {name:13} {res['rps']:8.0f} req/s  p50 "
                                f"{res['p50_ms']:6.2f} ms  p99 {res['p99_ms']:6.2f} ms  server CPU "
                                f"{res['server_cpu']:.0%}  loadgen CPU {res['loadgen_cpu']:.0%}",
                                flush=True,
                            )
            # The load generator's ceiling: the null server, 10 and 100 clients.
            ceiling = {}
            for clients in (10, 100):
                srv = servers["null server"]
                res = load(srv.port, srv.pid, "non-streamed", clients, max(2000, int(20000 * scale)))
                ceiling[clients] = res
                print(
                    f"null server  c={clients:<3} {res['rps']:8.0f} req/s  p99 {res['p99_ms']:.2f} ms  loadgen CPU "
                    f"{res['loadgen_cpu']:.0%}",
                    flush=True,
                )
            # The stack's own ceiling: uvicorn + h11 + Starlette answering the same bytes, no logic (10 clients).
            stack = []
            for _ in range(rounds):
                srv = servers["bare stack"]
                stack.append(
                    load(srv.port, srv.pid, "non-streamed", 10, max(400, int(COUNTS[("non-streamed", 10)] * scale)))
                )
            res = sorted(stack, key=lambda r: r["rps"])[len(stack) // 2]
            notes.append(
                "the same stack with nothing on it (bench/stack_server.py: uvicorn, the h11 parser, one "
                f"Starlette route answering the recorded bytes), 10 clients: {res['rps']:,.0f} req/s, "
                f"p99 {res['p99_ms']:.2f} ms, server CPU {res['server_cpu']:.0%} (median of {rounds}): the most "
                "any server on this stack answers in one process here; the replay server's own work is the difference"
            )
            print(f"bare stack   c=10  {res['rps']:8.0f} req/s  p99 {res['p99_ms']:.2f} ms", flush=True)
            wrk = {name: wrk_check(servers[name].port, 10) for name in contenders}
            if mockoon:  # Mockoon's own floor: one rule-less route answering a tiny body
                servers.pop("Mockoon").stop()
                port = free_port()
                env = mockoon_environment(port, b'{"ok":true}', sse)
                route = env["routes"][0]
                route["responses"], route["responseMode"] = route["responses"][1:], None
                route["responses"][0]["rules"] = []
                env_file.write_text(json.dumps(env), encoding="utf-8")
                servers["Mockoon trivial"] = mockoon_process(mockoon, env_file, port, tmp)
                srv = servers["Mockoon trivial"]
                for clients in (1, 10):
                    res = load(
                        srv.port, srv.pid, "non-streamed", clients, max(200, int(1000 * scale)), expect='{"ok":true}'
                    )
                    notes.append(
                        f'Mockoon with one rule-less route answering `{{"ok":true}}`, {clients} client(s): '
                        f"{res['rps']:,.0f} req/s, "
                        f"p50 {res['p50_ms']:.2f} ms: its numbers above come from its fixed cost per request, not "
                        "from the rules or the body size"
                    )
                    print(
                        f"Mockoon trivial c={clients:<3} {res['rps']:8.0f} req/s  p50 {res['p50_ms']:.2f} ms",
                        flush=True,
                    )
        finally:
            for srv in servers.values():
                srv.stop()

    body = report(results, contenders, clients_list, ceiling, wrk, notes, scale, rounds)
    write_result("server_load", "Replay server under load", body, info)
    return 0


def report(results, contenders, clients_list, ceiling, wrk, notes, scale, rounds) -> str:
    med = lambda runs, key: median([r[key] for r in runs])  # noqa: E731
    headers = ["request", "clients"]
    for name in contenders:
        headers += [f"{name} req/s", "p50 ms", "p99 ms", "server CPU"]
    peers = [name for name in PEERS if name in contenders]
    headers += [f"req/s ratio (ours / {name})" for name in peers]
    rows = []
    for mode in MODES:
        for clients in clients_list:
            row: list[Any] = [mode, clients]
            for name in contenders:
                runs = results.get((mode, clients, name))
                if not runs:
                    row += ["n/a", "", "", ""]
                    continue
                row += [
                    fmt(med(runs, "rps"), 0),
                    fmt(med(runs, "p50_ms"), 2),
                    fmt(med(runs, "p99_ms"), 2),
                    f"{med(runs, 'server_cpu'):.0%}",
                ]
            for name in peers:
                ours, theirs = results[(mode, clients, "replay server")], results.get((mode, clients, name))
                row.append(f"{median([a['rps'] / b['rps'] for a, b in zip(ours, theirs)]):.2f}x" if theirs else "n/a")
            rows.append(row)
    ours10 = results[("non-streamed", 10, "replay server")]
    rps10, p99_10 = med(ours10, "rps"), med(ours10, "p99_ms")
    verdict = "met" if rps10 >= GOAL["rps"] and p99_10 < GOAL["p99_ms"] else "MISSED"
    lines = [
        f"Goal (non-streamed, 10 clients): >= {GOAL['rps']:,} req/s and p99 < {GOAL['p99_ms']:.0f} ms -> "
        f"**{verdict}**: {rps10:,.0f} req/s, p99 {p99_10:.2f} ms.",
        "",
    ]
    if peers:
        # per round: ours against the fastest peer of that round (rounds alternate the order, measured minutes apart)
        rounds10 = [max(results[("non-streamed", 10, name)][i]["rps"] for name in peers) for i in range(len(ours10))]
        best = max(peers, key=lambda name: med(results[("non-streamed", 10, name)], "rps"))
        ratio = median([a["rps"] / b for a, b in zip(ours10, rounds10)])
        ok = ratio >= GOAL["peer_ratio"] and p99_10 < GOAL["p99_ms"]
        lines += [
            f"Goal against the peers (non-streamed, 10 clients): at least {GOAL['peer_ratio']:g}x the best peer's "
            f"req/s with p99 < {GOAL['p99_ms']:.0f} ms -> **{'met' if ok else 'MISSED'}**: {ratio:.2f}x the best peer "
            f"({best}: {med(results[('non-streamed', 10, best)], 'rps'):,.0f} req/s, p99 "
            f"{med(results[('non-streamed', 10, best)], 'p99_ms'):.2f} ms), p99 {p99_10:.2f} ms.",
            "",
        ]
    lines += [
        table(headers, rows),
        "",
        f"Medians of {rounds} round(s); each run sends a fixed number of requests after a warm-up "
        "("
        + ", ".join(f"{m} {c} clients: {int(n * scale) or 100}" for (m, c), n in COUNTS.items() if c in clients_list)
        + "). "
        "Latency is per request, from writing it to the end of the answer (for streams: the whole stream, 59 events, "
        "13.5 kB, sent as fast as possible: no --replay-timing). Server CPU is the share of one core the server "
        "process used during the run (about 100% means the server itself is the limit).",
        "",
    ]
    lines += [f"- {n}" for n in notes]
    lines.append(
        "- Mockoon answers each request with the whole recorded body in one piece (it has no chunk-by-chunk HTTP "
        "streaming); the replay server writes the stream event by event with chunked transfer encoding, as the "
        "service does."
    )
    for clients, res in ceiling.items():
        lines.append(
            f"- load generator ceiling ({clients} clients, against bench/null_server.py answering the same bytes): "
            f"{res['rps']:,.0f} req/s, p99 {res['p99_ms']:.2f} ms, the generator using {res['loadgen_cpu']:.0%} of a "
            "core."
        )
    for name, w in wrk.items():
        if w:
            lines.append(
                f"- cross-check with wrk (C, 1 thread, 10 connections, 3 s, non-streamed) on {name}: {w['rps']:,.0f} "
                f"req/s, p50 {w['p50_ms']:.2f} ms, p99 {w['p99_ms']:.2f} ms"
                + (f", {w['non_2xx']} non-2xx answers" if w["non_2xx"] else "")
                + "."
            )
    if not any(wrk.values()):
        lines.append("- wrk is not installed: no cross-check (`apt-get install wrk` on Debian/Ubuntu adds it).")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
