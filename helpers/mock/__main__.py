"""Command line: ``python -m helpers.mock serve`` (replay), ``record`` (proxy and record) and ``env`` (the variables
that point notebooks at a replay server).

``serve`` prints one line per deployment, ``endpoint <deployment-name> <url>``, on standard output;
everything else goes to standard error.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any, Callable

import uvicorn

from ..config import ConfigError, load_settings, mask, read_dotenv
from ..offline import offline_env
from . import setting_checks
from .app import DATA_DIR, DEMO_KEY, MockSettings, ReplayServer
from .connections import http_protocol
from .deployments import DEFAULT_ENDPOINT_KIND, ENDPOINT_KINDS, client_env, deployments_for, load_deployments


def _statuses(text: str) -> tuple[int, ...]:
    try:
        statuses = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated HTTP statuses, got {text!r}") from None
    try:
        return setting_checks.error_statuses(statuses)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _checked(parse: Callable[[str], Any], check: Callable[[Any], Any], expected: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``parse`` the text, then ``check`` the value (see ``setting_checks``)."""

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


_count = _checked(int, setting_checks.count, "a whole number")
_port = _checked(int, setting_checks.port, "a port number")
_share = _checked(float, setting_checks.share, "a number from 0 to 1")
_duration = _checked(float, setting_checks.duration, "a number")
_positive_count = _checked(int, setting_checks.positive_count, "a whole number")
_positive_duration = _checked(float, lambda v: setting_checks.duration(v, zero_allowed=False), "a number")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.mock",
        description="Replay server for Azure AI serverless chat endpoints (Meta Llama).",
        epilog="Each command lists its own options: python -m helpers.mock serve --help "
        "(ports, quotas, faults, timing), python -m helpers.mock record --help.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=_port, default=8000, help="port on 127.0.0.1 (0 picks a free one; default 8000)")
    common.add_argument(
        "--recordings", type=Path, default=DATA_DIR / "recordings", help="recordings folder (default data/recordings)"
    )
    common.add_argument(
        "--head-timeout",
        type=_positive_duration,
        default=15.0,
        help="seconds a client has to send a "
        "request's head (line and headers) before its connection is closed (default 15)",
    )
    common.add_argument(
        "--max-connections",
        type=_positive_count,
        default=None,
        help="open connections before a JSON 503 with Retry-After (default: below the open-file limit, ulimit -n)",
    )
    common.add_argument(
        "--log-requests",
        action="store_true",
        help="log each chat request and the recording that answered it "
        "(a short summary: never headers, whole prompts or values of extra parameters)",
    )

    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="replay recordings",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve recorded interactions in the foreground. Prints on standard output the emulated Foundry\n"
        "resource's endpoints, 'openai-v1-endpoint <url>' and 'models-endpoint <url>', then one line per\n"
        "deployment, 'endpoint <deployment-name> <url>' (on the resource: '<url>/openai/v1 (model <name>)');\n"
        "everything else goes to standard error.\n\n"
        "The accepted key is $AZURE_INFERENCE_CREDENTIAL when set, else the demo key\n"
        f"    {DEMO_KEY}\n"
        "The Foundry resource and the managed-compute deployments also accept the offline Entra ID stand-in\n"
        "token; the serverless endpoints take keys only.",
    )
    serve.add_argument(
        "--rpm",
        type=_count,
        default=1000,
        help="requests per minute per deployment before 429 (0 = off; default 1000, as documented)",
    )
    serve.add_argument(
        "--tpm",
        type=_count,
        default=200_000,
        help="tokens per minute per deployment before 429 (0 = off; default 200000, as documented)",
    )
    serve.add_argument(
        "--quota-window",
        type=_positive_duration,
        default=60.0,
        help="length in seconds of the quota window (default 60)",
    )
    serve.add_argument(
        "--no-retry-after",
        action="store_true",
        help="send 429s without Retry-After / retry-after-ms headers, as the service may",
    )
    serve.add_argument(
        "--fault-rate", type=_share, default=0.0, help="share of chat requests answered with an injected error (0..1)"
    )
    serve.add_argument(
        "--fault-retry-after", type=_duration, default=1.0, help="seconds an injected 429 asks to wait (default 1)"
    )
    serve.add_argument(
        "--fault-statuses",
        type=_statuses,
        default=(429, 500, 503),
        help="statuses to inject, comma-separated, each 400-599 (default 429,500,503)",
    )
    serve.add_argument("--latency-ms", type=_duration, default=0.0, help="delay added before every chat answer")
    serve.add_argument("--replay-timing", action="store_true", help="stream chunks at the gaps they were recorded with")
    serve.add_argument(
        "--cut-stream-after",
        type=_count,
        default=0,
        help="drop the connection after N chunks of every stream (0 = never)",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed for fault injection, for repeatable runs")
    serve.add_argument(
        "--local-model",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="answer a chat request that matches no recording with a small model on this computer "
        "(SmolLM2-135M-Instruct, never Llama; labelled x-replay-provenance: local-model) instead of a 404; "
        "make setup installs it (default: off; make lab turns it on)",
    )

    sub.add_parser(
        "record",
        parents=[common],
        help="proxy to live endpoints and record",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Forward every request to the live endpoint of its deployment and write what comes back as a\n"
        "recording. Upstreams come from <PREFIX>_ENDPOINT and <PREFIX>_CREDENTIAL for each deployment's\n"
        "env_prefix in data/deployments.json (AZURE_INFERENCE_ENDPOINT for Meta-Llama-3.1-405B-Instruct,\n"
        "and so on). Clients talk to the proxy with the demo key\n"
        f"    {DEMO_KEY}\n"
        "The live key stays in this process and is never written. Rate limits, server errors, answers\n"
        "that are not JSON and streams that break off or lack their closing [DONE] are passed on to the\n"
        "client but not recorded.",
    )
    env = sub.add_parser(
        "env",
        help="print the variables that point notebooks at a replay server (.env lines)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print, as NAME=value lines for a .env file or `export`, every variable the notebooks need to run\n"
        "against a replay server on this port (make serve): each deployment's endpoint, key, model, deployment\n"
        "and auth, and the libraries' offline switches. make run and make lab set them for you; this is for a\n"
        "Jupyter or a script you start yourself. Starts nothing.",
    )
    env.add_argument("--port", type=_port, default=8000, help="the replay server's port on 127.0.0.1 (default 8000)")
    env.add_argument(
        "--endpoint-kind",
        choices=ENDPOINT_KINDS,
        default=DEFAULT_ENDPOINT_KIND,
        help="how the notebooks reach the deployments: openai-v1 (today's path, the default), "
        "foundry-models (the retired /models endpoint) or serverless (the page's 2024 endpoints)",
    )
    return parser


def env_lines(port: int, kind: str = DEFAULT_ENDPOINT_KIND) -> list[str]:
    """The variables for a replay server on ``port``, as NAME=value lines. The key is the demo key unless the server
    would take $AZURE_INFERENCE_CREDENTIAL: then a placeholder, so that no key of yours is printed."""
    key = (
        DEMO_KEY if not os.environ.get("AZURE_INFERENCE_CREDENTIAL") else "<the key in your AZURE_INFERENCE_CREDENTIAL>"
    )
    variables = offline_env(client_env(load_deployments(), f"http://127.0.0.1:{port}", key, kind))
    return [f"{name}={value}" for name, value in variables.items()]


def _kind_of(url: str) -> str:
    from ..config import endpoint_kind

    return endpoint_kind(url)


def settings_from_args(args: argparse.Namespace) -> MockSettings:
    if args.command == "record":
        read_dotenv()
        upstreams, deployments, models = {}, {}, {}
        # Each variable prefix names one live deployment: today's (openai-v1, foundry-models) or the page's
        # (serverless).
        url = os.environ.get("AZURE_INFERENCE_ENDPOINT", "")
        setup_kind = "serverless" if url and _kind_of(url) == "serverless" else DEFAULT_ENDPOINT_KIND
        for dep in deployments_for(load_deployments(), setup_kind):
            url, key = os.environ.get(f"{dep.env_prefix}_ENDPOINT"), os.environ.get(f"{dep.env_prefix}_CREDENTIAL")
            if url:  # a placeholder or a typo: say which variable now, not with a 502 on every request later
                try:
                    load_settings(dep.env_prefix, dotenv=False)
                except ConfigError as exc:
                    raise SystemExit(f"record: {exc}") from None
            if url and key:
                upstreams[dep.name] = (url.rstrip("/"), key)
                if live_deployment := os.environ.get(f"{dep.env_prefix}_DEPLOYMENT", "").strip():
                    deployments[dep.name] = live_deployment
                if dep.kind == "foundry" and (live_model := os.environ.get(f"{dep.env_prefix}_MODEL", "").strip()):
                    models[dep.name] = live_model  # your deployment's name on your resource
        if not upstreams:
            raise SystemExit(
                "record: set AZURE_INFERENCE_ENDPOINT and AZURE_INFERENCE_CREDENTIAL to a live endpoint first."
            )
        return MockSettings(
            key=DEMO_KEY,
            recordings_dir=args.recordings,
            upstreams=upstreams,
            upstream_deployments=deployments,
            upstream_models=models,
            rpm=0,
            tpm=0,
            log_requests=True,
            head_timeout_seconds=args.head_timeout,
            max_connections=args.max_connections,
        )
    return MockSettings(
        key=os.environ.get("AZURE_INFERENCE_CREDENTIAL") or DEMO_KEY,
        recordings_dir=args.recordings,
        rpm=args.rpm,
        tpm=args.tpm,
        quota_window_seconds=args.quota_window,
        retry_after=not args.no_retry_after,
        fault_rate=args.fault_rate,
        fault_retry_after_seconds=args.fault_retry_after,
        fault_statuses=args.fault_statuses,
        latency_ms=args.latency_ms,
        replay_timing=args.replay_timing,
        cut_stream_after=args.cut_stream_after,
        seed=args.seed,
        log_requests=args.log_requests,
        head_timeout_seconds=args.head_timeout,
        max_connections=args.max_connections,
        local_model=args.local_model,
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "env":
        print("\n".join(env_lines(args.port, args.endpoint_kind)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    settings = settings_from_args(args)
    if args.command == "serve" and not settings.recordings_dir.is_dir():  # a typo would serve nothing but 404s
        raise SystemExit(f"--recordings: there is no folder {settings.recordings_dir}.")
    try:
        replay = ReplayServer(settings)
    except ValueError as exc:  # a recording that does not load: which file, and why
        raise SystemExit(f"Cannot start the replay server: {exc}") from None
    config = uvicorn.Config(
        replay.app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        http=http_protocol(settings.head_timeout_seconds, settings.max_connections),
    )
    server = uvicorn.Server(config)
    # Bind and listen before printing: the printed URLs carry the real port (with --port 0), and a
    # client that connects as soon as it reads them is queued instead of refused.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as exc:
        raise SystemExit(
            f"Cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): is another replay server (make serve, make "
            f"lab) running? Stop it, or pick another port: --port {args.port + 1} (make serve PORT={args.port + 1})."
        ) from None
    sock.listen(config.backlog)
    port = sock.getsockname()[1]
    print(f"openai-v1-endpoint http://127.0.0.1:{port}/openai/v1", flush=True)
    print(f"models-endpoint http://127.0.0.1:{port}/models", flush=True)
    for name, dep in replay.deployments.items():
        url = (
            f"http://127.0.0.1:{port}/{name}"
            if dep.own_endpoint
            else f"http://127.0.0.1:{port}/openai/v1 (model {name})"
        )
        print(f"endpoint {name} {url}", flush=True)
    print(
        "a Jupyter or script of your own needs every deployment's variables: .venv/bin/python -m helpers.mock env "
        f"--port {port} prints them as .env lines (make run and make lab set them for you)",
        file=sys.stderr,
        flush=True,
    )
    mode = "recording through to live endpoints" if settings.upstreams else f"{len(replay.store)} recordings"
    print(f"replay server on 127.0.0.1:{port}, {mode}; Ctrl+C stops it", file=sys.stderr, flush=True)
    if settings.local_model:
        print(
            "requests no recording matches are answered by a small local stand-in model (SmolLM2-135M-Instruct on this "
            "computer, not Llama on Azure), labelled x-replay-provenance: local-model",
            file=sys.stderr,
            flush=True,
        )
    if settings.key != DEMO_KEY:  # an exported key is easy to forget: say which one clients must send (masked)
        print(
            f"accepting the key from AZURE_INFERENCE_CREDENTIAL ({mask(settings.key)}), not the demo key",
            file=sys.stderr,
            flush=True,
        )
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
