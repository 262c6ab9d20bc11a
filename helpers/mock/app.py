"""The replay server: a Starlette app that answers like Azure's endpoints for Meta Llama.

Routes (``endpoints.py`` says how each kind finds its deployment):

- a Foundry resource: ``POST /openai/v1/chat/completions`` and ``GET /openai/v1/models`` (the OpenAI v1 endpoint,
  today's path); ``POST /models/chat/completions`` and ``GET /models/info`` (the Azure AI model inference endpoint,
  retired on 2026-08-26);
- one URL prefix per serverless or managed deployment (``/<deployment-name>``, the page's setup): ``GET /info``,
  ``POST /chat/completions`` and the OpenAI-compatible ``POST /v1/chat/completions``.

A chat request goes through, in order: auth, api-version, body parsing, the deployment, quota, injected faults, the
service's rules (``rules.py``), then the recording lookup (``recordings.py``). In record mode the request is forwarded
to the live endpoint instead, and the answer is written as a new recording (``proxy.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..constants import DEMO_KEY, ENTRA_SCOPES, STAND_IN_ENTRA_TOKEN  # DEMO_KEY re-exported: helpers.mock.DEMO_KEY
from . import endpoints, error_bodies, rules, setting_checks
from .bodies import parse_body
from .deployments import DATA_DIR, Deployment, client_env, deployment_prefixes, load_deployments  # noqa: F401 (re-exported)
from .misses import explain_miss
from .provenance import LabelOwnAnswers
from .quota import Faults, Quota
from .recordings import Recording, RecordingStore
from .stream_cuts import StreamCut, quiet_stream_cuts
from .summary import request_summary

log = logging.getLogger("helpers.mock")
T = TypeVar("T")

MAX_BODY_BYTES = 8 * 1024 * 1024
# uvicorn's HTTP parser. h11 (pure Python, RFC 9112 to the letter) rather than httptools (C, about 1.6x the requests
# per second here): with httptools, a request carrying 'Upgrade: h2c' (curl --http2) lost its body, an HTTP/1.0
# client got a chunked stream, and a header of any size was read, blocking the event loop for seconds. h11 gets all
# three right, and still serves nearly 4,000 requests per second with 10 clients (bench/results/server_load.md).
HTTP_PARSER = "h11"
# Bodies larger than this are parsed, checked and matched in a worker thread, so that one heavy request does not
# stall every other client; smaller ones (nearly all) are handled on the event loop, where that costs less than a
# thread hop.
OFF_LOOP_BYTES = 16 * 1024


@dataclass
class MockSettings:
    """Everything a run of the replay server can be configured with."""

    key: str = DEMO_KEY
    recordings_dir: Path = DATA_DIR / "recordings"
    deployments_file: Path = DATA_DIR / "deployments.json"
    rpm: int = 1000
    tpm: int = 200_000
    quota_window_seconds: float = 60.0
    retry_after: bool = True
    fault_rate: float = 0.0
    fault_statuses: tuple[int, ...] = (429, 500, 503)
    fault_retry_after_seconds: float = 1.0  # how long an injected 429 asks to wait
    latency_ms: float = 0.0
    replay_timing: bool = False
    cut_stream_after: int = 0
    seed: int | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout_seconds: float = 30.0  # a client that has not sent its whole body by then gets a 408
    head_timeout_seconds: float = (
        15.0  # a connection whose request head is not whole by then is closed (connections.py)
    )
    max_connections: int | None = None  # past it, a JSON 503; None: below the open-file limit (connections.py)
    log_requests: bool = False
    upstreams: dict[str, tuple[str, str]] = field(default_factory=dict)  # record mode: name -> (url, key)
    # record mode, managed compute: name -> the live endpoint's deployment, sent upstream as azureml-model-deployment
    upstream_deployments: dict[str, str] = field(default_factory=dict)
    # record mode, Foundry resource: name -> the live resource's deployment name, sent upstream as the body's model
    upstream_models: dict[str, str] = field(default_factory=dict)
    # serve --local-model (make lab): a small model on this computer answers what no recording matches, labelled as
    # such (local_model.py); off by default, so that tests and nbval stay strict. None: <venv>/local-model/<file>.
    local_model: bool = False
    local_model_path: Path | None = None

    def __post_init__(self) -> None:
        """Refuse values that would break every request (see ``setting_checks``), naming the setting."""
        checks = {
            "rpm": setting_checks.count,
            "tpm": setting_checks.count,
            "cut_stream_after": setting_checks.count,
            "quota_window_seconds": lambda v: setting_checks.duration(v, zero_allowed=False),
            "fault_rate": setting_checks.share,
            "fault_statuses": setting_checks.error_statuses,
            "fault_retry_after_seconds": setting_checks.duration,
            "latency_ms": setting_checks.duration,
            "max_body_bytes": setting_checks.positive_count,
            "body_timeout_seconds": lambda v: setting_checks.duration(v, zero_allowed=False),
            "head_timeout_seconds": lambda v: setting_checks.duration(v, zero_allowed=False),
            "max_connections": lambda v: v if v is None else setting_checks.positive_count(v),
        }
        for name, check in checks.items():
            try:
                check(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"MockSettings.{name} {exc}") from None


class ReplayServer:
    """Holds the state of one server run; ``app`` is the ASGI application."""

    def __init__(self, settings: MockSettings | None = None) -> None:
        self.settings = settings or MockSettings()
        s = self.settings
        self.deployments = load_deployments(s.deployments_file)
        self.store = RecordingStore(s.recordings_dir)
        self.quota = Quota(rpm=s.rpm, tpm=s.tpm, window_seconds=s.quota_window_seconds)
        self.faults = Faults(s.fault_rate, tuple(s.fault_statuses), s.latency_ms, s.cut_stream_after, s.seed)
        self.recorder = None
        if s.upstreams:
            from .proxy import Recorder  # only record mode needs an HTTP client

            self.recorder = Recorder(s.upstreams, s.recordings_dir, self.store, s.upstream_deployments)
        self.local_model = None
        if s.local_model:
            from . import local_model  # loads no model: that happens on the first request it answers

            reason = local_model.unavailable_reason(s.local_model_path)
            if reason:
                raise ValueError(f"the local stand-in model cannot run: {reason}")
            self.local_model = local_model.LocalModel(s.local_model_path)
        self.app = Starlette(
            routes=[
                # The resource's routes first: /models/info would otherwise be a deployment named "models".
                Route("/openai/v1/chat/completions", self.openai_v1_chat, methods=["POST"]),
                Route("/openai/v1/models", self.openai_v1_models, methods=["GET"]),
                Route("/models/chat/completions", self.models_chat, methods=["POST"]),
                Route("/models/info", self.models_info, methods=["GET"]),
                Route("/{deployment}/info", self.info, methods=["GET"]),
                Route("/{deployment}/chat/completions", self.chat, methods=["POST"]),
                Route("/{deployment}/v1/chat/completions", self.chat, methods=["POST"]),
            ],
            lifespan=self._lifespan,
            middleware=[Middleware(LabelOwnAnswers)],  # x-replay-provenance: replay-server on its own answers
        )
        # No 307 to the path without its trailing slash: like any other unknown path, it gets the JSON 404.
        self.app.router.redirect_slashes = False
        self.app.add_exception_handler(404, self._not_found)
        self.app.add_exception_handler(405, self._not_allowed)
        self.app.add_exception_handler(Exception, self._internal_error)
        quiet_stream_cuts()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await anyio.sleep(0)  # loads anyio's asyncio backend now, not during the first streamed answer (~20 ms)
        yield
        if self.recorder:
            await self.recorder.aclose()
        if self.local_model:
            self.local_model.close()

    # -- routing errors, in the service's JSON shape ---------------------------------------
    async def _not_found(self, request: Request, exc: Exception) -> Response:
        names = ", ".join(dep.name for dep in self.deployments.values() if dep.own_endpoint)
        return error_bodies.spec_error(
            404,
            "NotFound",
            f"No route {request.url.path}. Routes here: /openai/v1/chat/completions, "
            "/openai/v1/models, /models/chat/completions, /models/info, and for each of the endpoints "
            f"{names}: /<name>/info, /<name>/chat/completions, /<name>/v1/chat/completions.",
        )

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        response = error_bodies.spec_error(
            405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}."
        )
        response.headers.update(
            getattr(exc, "headers", None) or {}
        )  # Starlette's 405 carries the Allow header (RFC 9110)
        return response

    async def _internal_error(self, request: Request, exc: Exception) -> Response:
        # A bug in the replay server: still answer in JSON, so every client can show it (uvicorn logs the traceback).
        return error_bodies.spec_error(
            500, "ReplayServerError", f"The replay server failed on this request: {type(exc).__name__}: {exc}"
        )

    # -- checks shared by every route ------------------------------------------------------
    def _deployment(self, request: Request) -> Deployment | Response:
        """The deployment the path names, once the caller has shown a credential it accepts.

        The path prefix stands for the endpoint's host, so it is looked up first (it decides which
        credentials count). The ``azureml-model-deployment`` header is routing inside the endpoint:
        it is only looked at after auth, so a caller without a credential learns nothing from it.
        """
        name = request.path_params["deployment"]
        dep = self.deployments.get(name)
        if dep is None or not dep.own_endpoint:
            names = ", ".join(d.name for d in self.deployments.values() if d.own_endpoint)
            return error_bodies.spec_error(
                404,
                "DeploymentNotFound",
                f"No endpoint named {name!r}. Endpoints here: {names}; "
                "the Foundry resource's deployments are under /openai/v1 and /models.",
            )
        if not self._authorized(request, dep.kind):
            return error_bodies.unauthorized(ENTRA_SCOPES["managed"] if dep.kind == "managed" else None)
        problem = endpoints.api_version_problem(request, "serverless")
        if problem:
            return problem
        wanted = request.headers.get("azureml-model-deployment")
        if wanted and dep.kind == "managed" and wanted != dep.azureml_deployment:
            return error_bodies.spec_error(
                404,
                "DeploymentNotFound",
                f"Header azureml-model-deployment names {wanted!r}; this endpoint has {dep.azureml_deployment!r}.",
            )
        return dep

    def _authorized(self, request: Request, kind: str) -> bool:
        accepted = {self.settings.key}
        if kind in ("managed", "foundry"):
            accepted.add(STAND_IN_ENTRA_TOKEN)  # managed compute and Foundry resources also take Entra ID tokens
        accepted.discard("")  # an empty key setting must not let requests without credentials in
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth[:7].lower() == "bearer " else auth
        return token.strip() in accepted or request.headers.get("api-key", "").strip() in accepted

    async def _read_body(self, request: Request) -> bytes | Response:
        """The raw body of a JSON request, or the error answer: wrong content type, too large, too slow, abandoned."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return error_bodies.spec_error(
                415, "UnsupportedMediaType", f"Content-Type must be application/json, not {ctype or 'missing'!r}."
            )
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return error_bodies.spec_error(413, "PayloadTooLarge", f"The request body is over {limit} bytes.")
        raw = bytearray()
        timeout = self.settings.body_timeout_seconds
        try:
            with anyio.fail_after(timeout):  # a stalled upload must not hold its connection forever
                async for chunk in request.stream():
                    raw += chunk
                    if len(raw) > limit:
                        return error_bodies.spec_error(
                            413, "PayloadTooLarge", f"The request body is over {limit} bytes."
                        )
        except TimeoutError:
            log.info("%s %s: the body did not arrive within %s s", request.method, request.url.path, timeout)
            response = error_bodies.spec_error(
                408, "RequestTimeout", f"The request body did not arrive within {timeout} seconds."
            )
            response.headers["connection"] = (
                "close"  # the rest of the body may still come: not the start of a next request
            )
            return response
        except ClientDisconnect:
            # The client hung up mid-upload: nobody will read an answer, and it is not a server bug
            # (uncaught, uvicorn would log a long traceback). The answer below goes nowhere.
            log.info("%s %s: client disconnected before sending the whole body", request.method, request.url.path)
            return error_bodies.spec_error(
                400, "ClientDisconnected", "The client disconnected before sending the whole body."
            )
        return bytes(raw)

    async def _run(self, off_loop: bool, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread when ``off_loop`` (a large body), else right here."""
        return await run_in_threadpool(fn, *args) if off_loop else fn(*args)

    def _checked_body(
        self, dep: Deployment, body: dict[str, Any], extra_parameters: str | None
    ) -> dict[str, Any] | Response:
        """The service's rules, then the ``extra-parameters`` header: the body recordings are matched on, or the
        error."""
        problem = rules.check_request(body, dep.model_name) or endpoints.image_problem(body, dep)
        if problem:
            return problem
        body, problem = rules.apply_extra_parameters(body, extra_parameters)
        return problem if problem is not None else body

    # -- routes ----------------------------------------------------------------------------
    async def info(self, request: Request) -> Response:
        dep = self._deployment(request)
        if isinstance(dep, Response):
            return dep
        if self.recorder and dep.name in self.recorder.upstreams:
            return await self.recorder.forward_info(request, dep)
        return JSONResponse(dep.info())

    async def chat(self, request: Request) -> Response:
        """A serverless or managed endpoint of its own: the URL names the deployment."""
        dep = self._deployment(request)
        if isinstance(dep, Response):
            return dep
        parsed = await self._json_body(request)
        if isinstance(parsed, Response):
            return parsed
        return await self._answer(request, dep, *parsed, route_prefix=f"/{dep.name}")

    async def openai_v1_chat(self, request: Request) -> Response:
        return await self._resource_chat(request, "openai-v1")

    async def models_chat(self, request: Request) -> Response:
        return await self._resource_chat(request, "foundry-models")

    async def _resource_chat(self, request: Request, kind: str) -> Response:
        """The Foundry resource: auth, api-version, then the deployment the body (or header) names."""
        problem = self._resource_problem(request, kind)
        if problem:
            return problem
        parsed = await self._json_body(request)
        if isinstance(parsed, Response):
            return parsed
        body, off_loop = parsed
        dep = endpoints.resource_deployment(self.deployments, kind, endpoints.model_on_resource(request, kind, body))
        if isinstance(dep, Response):
            return dep
        return await self._answer(request, dep, body, off_loop, route_prefix=endpoints.RESOURCE_PATHS[kind])

    def _resource_problem(self, request: Request, kind: str) -> Response | None:
        if not self._authorized(request, "foundry"):
            return error_bodies.unauthorized(ENTRA_SCOPES[kind])
        return endpoints.api_version_problem(request, kind)

    async def openai_v1_models(self, request: Request) -> Response:
        problem = self._resource_problem(request, "openai-v1")
        return problem or JSONResponse(endpoints.models_list(self.deployments))

    async def models_info(self, request: Request) -> Response:
        problem = self._resource_problem(request, "foundry-models")
        if problem:
            return problem
        name = request.query_params.get("model") or request.headers.get("x-ms-model-mesh-model-name")
        dep = endpoints.resource_deployment(self.deployments, "foundry-models", name)
        return dep if isinstance(dep, Response) else JSONResponse(dep.info())

    async def _json_body(self, request: Request) -> tuple[dict[str, Any], bool] | Response:
        """The request's JSON object and whether it is large enough to be handled off the event loop, or the error."""
        raw = await self._read_body(request)
        if isinstance(raw, Response):
            return raw
        off_loop = len(raw) > OFF_LOOP_BYTES
        body = await self._run(off_loop, parse_body, raw)
        return body if isinstance(body, Response) else (body, off_loop)

    async def _answer(
        self, request: Request, dep: Deployment, body: dict[str, Any], off_loop: bool, route_prefix: str
    ) -> Response:
        """One deployment's answer to a chat request: record mode, or the rules, quota, faults and recordings."""
        if self.recorder and dep.name in self.recorder.upstreams:
            if dep.name in self.settings.upstream_models:  # the live resource's name for this deployment
                body = {**body, "model": self.settings.upstream_models[dep.name]}
            return await self.recorder.forward_chat(request, dep, body, route_prefix)

        # The service's rules, then the lookup, before the quota: for a large body they run in a worker thread, and
        # from admit() to spend() below nothing may await, or requests in flight would all be admitted before any of
        # them spent its tokens. The order of the answers stays the service's: quota, faults, rules, recording.
        checked = await self._run(off_loop, self._checked_body, dep, body, request.headers.get("extra-parameters"))
        rec = None if isinstance(checked, Response) else await self._run(off_loop, self.store.find, dep.name, checked)

        if self.settings.latency_ms and await client_left_during(request, self.settings.latency_ms / 1000):
            # A client that gave up (its timeout) reads no answer: end now, so that stopping the server need not
            # wait for a delay nobody is waiting for.
            log.info("%s %s: client gone during the added latency", request.method, request.url.path)
            return error_bodies.spec_error(
                400, "ClientDisconnected", "The client disconnected while waiting for the answer."
            )
        wait = self.quota.admit(dep.name)
        if wait is not None:
            return error_bodies.rate_limited(
                f"Rate limit of {self.quota.rpm} requests / {self.quota.tpm} tokens per minute exceeded for "
                f"{dep.name}.",
                wait if self.settings.retry_after else None,
            )
        injected = self.faults.pick()
        if injected:
            return self._injected(injected)

        if isinstance(checked, Response):
            return checked
        if self.settings.log_requests:  # a bounded summary: never a whole prompt, never an extra parameter's value
            log.warning(
                "%s %s -> %s",
                request.method,
                request.url.path,
                rec.name if rec else f"no recording for {request_summary(checked)}",
            )
        if rec is None:  # nothing to spend: awaiting here is safe
            if self.local_model is not None:  # serve --local-model: a small local model answers, labelled as such
                return await self._local_answer(dep, checked)
            closest = await self.store.closest_async(dep.name, checked)  # cached; else one worker thread for all misses
            # The usual cause with 'make serve': a notebook fell back to this deployment because the variables of
            # the one it meant were not set. If that one has this very request, say which variables to set.
            recorded_for = set(await self._run(off_loop, self.store.deployments_with, checked))
            elsewhere = [
                other for other in self.deployments.values() if other.name in recorded_for and other.name != dep.name
            ]
            # The same setup's deployments first (today's or the page's, as the one asked), then data/deployments.json's
            # order: the main deployment before the others.
            elsewhere.sort(key=lambda other: not set(other.setups) & set(dep.setups))
            base = str(request.base_url).rstrip("/")
            hint = "".join(
                f" This request is recorded for {other.name}: was it meant for that deployment? Set its variables "
                + (
                    f"({other.env_prefix}_ENDPOINT={base}/{other.name}"
                    if other.own_endpoint
                    else f"({other.env_prefix}_MODEL={other.name}"
                )
                + " and the others that '.venv/bin/python -m helpers.mock env"
                + ("" if "today" in other.setups else " --endpoint-kind serverless")
                + "' prints)."
                for other in elsewhere[:1]
            )
            return error_bodies.spec_error(
                404, "RecordingNotFound", explain_miss(self.store, dep.name, checked, closest) + hint, closest=closest
            )
        self.quota.spend(dep.name, rec.total_tokens)
        return self._replay(rec)

    async def _local_answer(self, dep: Deployment, body: dict[str, Any]) -> Response:
        """The local stand-in model's answer (``local_model.py``), after the rules and quota; its tokens count too."""
        from .local_model import HEADERS, LocalModelError

        def spend(tokens: int) -> None:
            self.quota.spend(dep.name, tokens)

        try:
            if body.get("stream"):
                events = await self.local_model.open_stream(body, spend)
                return StreamingResponse(events, media_type="text/event-stream", headers=HEADERS)
            answer = await self.local_model.acomplete(body)
        except LocalModelError as exc:  # the local model's refusal (a prompt longer than its context), labelled as its
            refusal = error_bodies.spec_error(exc.status, exc.code, exc.message)
            refusal.headers.update(HEADERS)
            return refusal
        spend(answer["usage"]["total_tokens"])
        return JSONResponse(answer, headers=HEADERS)

    def _injected(self, status: int) -> Response:
        if status == 429:
            wait = self.settings.fault_retry_after_seconds if self.settings.retry_after else None
            return error_bodies.rate_limited("Injected fault: rate limit exceeded.", wait)
        names = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
        return error_bodies.spec_error(status, names.get(status, "InjectedFault"), f"Injected fault: HTTP {status}.")

    def _replay(self, rec: Recording) -> Response:
        # Say where the answer came from, so nobody mistakes an authored answer for a model's.
        headers = {
            **rec.headers,
            "x-replay-recording": rec.name,
            "x-replay-provenance": str(rec.provenance.get("source")),
        }
        if rec.stream is None:
            return JSONResponse(rec.body, status_code=rec.status, headers=headers)
        return StreamingResponse(
            self._events(rec), status_code=rec.status, media_type="text/event-stream", headers=headers
        )

    async def _events(self, rec: Recording) -> AsyncIterator[bytes]:
        cut = self.faults.cut_stream_after
        events = rec.encoded_events  # one write per event, as the service streams them
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        for i, (event, encoded) in enumerate(zip(rec.stream or [], events)):
            if cut and i >= cut:
                log.info("%s: stream cut after %d chunks (fault injection)", rec.name, cut)
                raise StreamCut(f"stream cut after {cut} chunks (fault injection)")
            if self.settings.replay_timing and event.get("delay_ms"):
                # Sleep until start + the recorded delays so far: no drift accumulates over a long stream.
                deadline += event["delay_ms"] / 1000
                await asyncio.sleep(max(0.0, deadline - loop.time()))
            yield encoded


async def client_left_during(request: Request, seconds: float) -> bool:
    """Wait ``seconds``; True as soon as the client disconnects (its body is read: the next message says so)."""
    try:
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return True
    except TimeoutError:
        return False


def create_app(settings: MockSettings | None = None) -> Starlette:
    """The ASGI app, for ``uvicorn helpers.mock.app:create_app --factory`` or tests."""
    return ReplayServer(settings).app
