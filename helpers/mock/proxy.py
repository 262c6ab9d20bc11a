"""Record mode: forward requests to a live endpoint and write each answer as a recording.

Only the request *body* and the response status, body or stream are written. No request header is
ever stored. The live key and cookie values, in case a service echoes them (in any case, base64, URL-encoded or
JSON-escaped: ``scrub.py``), are scrubbed from what is written and from what is relayed to the client, which holds
only the demo key: bodies, stream lines and the headers passed back. ``Set-Cookie`` is neither relayed nor written.

Answers that say something about the moment rather than the request (401/403, 429, 5xx) are passed
back to the client but not written, and neither is a stream that broke off: replaying them later
would turn a passing hiccup into a permanent answer. Nor is anything the service would never send:
an answer that is not JSON (a proxy's HTML page, passed on as a JSON error), or a stream without its
closing ``data: [DONE]`` or with a ``data:`` line that is not JSON (relayed as it came).

The request body is written as replay will match it: with ``extra-parameters: drop``, without the
parameters the service dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from . import error_bodies, rules
from .recordings import Recording, RecordingStore, match_key
from .scrub import Scrubber, cookie_values, set_cookie_values
from .stream_cuts import StreamCut
from .summary import last_message, message_text

log = logging.getLogger("helpers.mock")

FORWARDED_HEADERS = ("content-type", "accept", "extra-parameters", "azureml-model-deployment")
# Upstream response headers passed back to the client, scrubbed (never written to a recording; never Set-Cookie).
RETURNED_HEADERS = ("retry-after", "x-ms-error-code")


def worth_recording(status: int) -> bool:
    """Statuses that answer the request itself (200, 400 content_filter, 422...), not the moment or the setup
    (401/403: credentials, 404: a URL or deployment name, 408/429/5xx: the moment)."""
    return status not in (401, 403, 404, 408, 429) and status < 500


def _returned_headers(upstream: httpx.Response, scrub: Scrubber) -> dict[str, str]:
    return scrub.headers({h: upstream.headers[h] for h in RETURNED_HEADERS if h in upstream.headers})


def _unreachable(url: str, exc: Exception, scrub: Scrubber) -> Response:
    return error_bodies.spec_error(
        502,
        "UpstreamUnreachable",
        scrub.text(f"Record mode could not reach the live endpoint {url}: {type(exc).__name__}: {exc}"),
    )


def _non_json(url: str, upstream: httpx.Response, text: str, scrub: Scrubber) -> Response:
    """An answer that is not JSON, as a JSON error: the upstream's error status kept (a 429 stays a 429), else a 502."""
    status = upstream.status_code if upstream.status_code >= 400 else 502
    preview = " ".join(scrub.text(text[:400])[:200].split())  # scrubbed before it is cut: no half key left over
    ctype = upstream.headers.get("content-type") or "no content type"
    response = error_bodies.spec_error(
        status,
        "NonJsonAnswer",
        scrub.text(
            f"The live endpoint {url} answered HTTP {upstream.status_code} "
            f"with {ctype}, not JSON (passed on, not recorded): {preview}"
        ),
    )
    if "retry-after" in upstream.headers:
        response.headers["retry-after"] = scrub.text(upstream.headers["retry-after"])
    return response


def recording_filename(body: dict[str, Any]) -> str:
    """``<first words of the last message>-<stream|json>-<hash>.json``: readable and stable, whatever the body holds."""
    content = message_text(last_message(body))
    slug = re.sub(r"[^a-z0-9]+", "-", content[:200].lower()).strip("-")[:48] or "request"
    digest = hashlib.sha256(match_key(body).encode()).hexdigest()[:8]
    return f"{slug}-{'stream' if body.get('stream') else 'json'}-{digest}.json"


class Recorder:
    def __init__(
        self,
        upstreams: dict[str, tuple[str, str]],
        recordings_dir: Path,
        store: RecordingStore,
        deployments: dict[str, str] | None = None,
    ) -> None:
        self.upstreams = upstreams
        self.deployments = deployments or {}  # managed compute: the live deployment name for each upstream
        self.recordings_dir = Path(recordings_dir)
        self.store = store
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0))

    async def aclose(self) -> None:
        await self.client.aclose()

    def _upstream(
        self, request: Request, deployment: str, route_prefix: str | None = None
    ) -> tuple[str, dict[str, str], Scrubber]:
        # route_prefix: the part of the path that stands for the live endpoint's URL (/<deployment>, /openai/v1,
        # /models)
        base, key = self.upstreams[deployment]
        suffix = request.url.path[len(route_prefix or f"/{deployment}") :]
        url = base + suffix + (f"?{request.url.query}" if request.url.query else "")
        headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
        # The notebook names the replay server's deployment (from its environment); the live endpoint has its own
        # name, or none given (then the endpoint routes by its traffic rules).
        headers.pop("azureml-model-deployment", None)
        if deployment in self.deployments:
            headers["azureml-model-deployment"] = self.deployments[deployment]
        headers.update({"authorization": f"Bearer {key}", "api-key": key})
        # What must not reach the client nor a file: the key, and the client's cookie values should they come back.
        return url, headers, Scrubber(key, cookie_values(request.headers.get("cookie", "")))

    @staticmethod
    def _answered(scrub: Scrubber, upstream: httpx.Response) -> Scrubber:
        """``scrub``, also scrubbing the cookie values the live endpoint set in its answer."""
        return scrub.with_cookies(set_cookie_values(upstream.headers.get_list("set-cookie")))

    async def forward_info(self, request: Request, dep: Any) -> Response:
        url, headers, scrub = self._upstream(request, dep.name)
        try:
            upstream = await self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            return _unreachable(url, exc, scrub)
        scrub = self._answered(scrub, upstream)
        try:
            answer = json.loads(upstream.content)
        except ValueError:
            return _non_json(url, upstream, upstream.content.decode(errors="replace"), scrub)
        return JSONResponse(
            scrub.json(answer), status_code=upstream.status_code, headers=_returned_headers(upstream, scrub)
        )

    async def forward_chat(
        self, request: Request, dep: Any, body: dict[str, Any], route_prefix: str | None = None
    ) -> Response:
        """Send ``body`` as it came; write it as replay will match it (extra parameters the header drops, dropped)."""
        url, headers, scrub = self._upstream(request, dep.name, route_prefix)
        recorded_body, _ = rules.apply_extra_parameters(body, request.headers.get("extra-parameters"))
        if not body.get("stream"):
            try:
                upstream = await self.client.post(url, headers=headers, json=body)
            except httpx.HTTPError as exc:
                return _unreachable(url, exc, scrub)
            return self._json_answer(
                url,
                upstream,
                upstream.content,
                self._answered(scrub, upstream),
                dep.name,
                recorded_body,
                request.url.path,
            )
        return await self._forward_stream(url, headers, scrub, dep.name, body, recorded_body, request.url.path)

    def _json_answer(
        self,
        url: str,
        upstream: httpx.Response,
        raw: bytes,
        scrub: Scrubber,
        deployment: str,
        recorded_body: dict[str, Any],
        route: str,
    ) -> Response:
        """A whole (not streamed) answer: passed on, and written if it is JSON and worth recording (both scrubbed)."""
        try:
            answer = scrub.json(json.loads(raw))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            log.warning(
                "%s: HTTP %s from the live endpoint is not JSON; not recorded", deployment, upstream.status_code
            )
            return _non_json(url, upstream, raw.decode(errors="replace"), scrub)
        self._keep(deployment, recorded_body, {"status": upstream.status_code, "body": answer}, scrub, route)
        return JSONResponse(answer, status_code=upstream.status_code, headers=_returned_headers(upstream, scrub))

    def _keep(
        self, deployment: str, body: dict[str, Any], response: dict[str, Any], scrub: Scrubber, route: str
    ) -> None:
        if worth_recording(response["status"]):
            self._write(deployment, body, response, scrub, route)
        else:
            log.warning("%s: HTTP %s from the live endpoint passed on, not recorded", deployment, response["status"])

    async def _forward_stream(
        self,
        url: str,
        headers: dict[str, str],
        scrub: Scrubber,
        deployment: str,
        body: dict[str, Any],
        recorded_body: dict[str, Any],
        route: str,
    ) -> Response:
        try:
            upstream = await self.client.send(
                self.client.build_request("POST", url, headers=headers, json=body), stream=True
            )
        except httpx.HTTPError as exc:
            return _unreachable(url, exc, scrub)
        scrub = self._answered(scrub, upstream)
        if upstream.status_code != 200 or "text/event-stream" not in upstream.headers.get("content-type", ""):
            try:
                raw = await upstream.aread()
            except httpx.HTTPError as exc:
                return _unreachable(url, exc, scrub)
            finally:
                await upstream.aclose()
            return self._json_answer(url, upstream, raw, scrub, deployment, recorded_body, route)

        async def relay() -> AsyncIterator[bytes]:
            events: list[dict[str, Any]] = []
            done, malformed = False, 0
            last = time.monotonic()
            try:
                async for line in upstream.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    now = time.monotonic()
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        done = True
                        data: Any = payload
                    else:
                        try:
                            parsed = json.loads(payload)
                        except ValueError:
                            malformed += 1
                            yield f"data: {scrub.text(payload)}\n\n".encode()  # relayed (scrubbed), not recordable
                            continue
                        data = scrub.json(parsed)
                        if data != parsed:  # an echo: the scrubbed chunk instead of the line as it came
                            payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                    yield f"data: {payload}\n\n".encode()  # relayed as it came, unless scrubbed
                    events.append({"delay_ms": round((now - last) * 1000, 1), "data": data})
                    last = now
            except httpx.HTTPError as exc:
                # The live stream broke off: pass the break on to the client, and record nothing.
                log.warning(
                    "%s: the live stream broke after %d events (%s); not recorded", deployment, len(events), exc
                )
                raise StreamCut("the live endpoint's stream broke off") from None
            finally:
                await upstream.aclose()
            # Only a whole, well-formed stream is written (a client that hangs up early never gets here).
            if done and not malformed:
                self._write(deployment, recorded_body, {"status": 200, "stream": events}, scrub, route)
            else:
                problem = f"{malformed} data line(s) not JSON" if malformed else "no closing data: [DONE]"
                log.warning("%s: the live stream ended with %s; not recorded", deployment, problem)

        return StreamingResponse(relay(), media_type="text/event-stream", headers=_returned_headers(upstream, scrub))

    def _write(
        self, deployment: str, body: dict[str, Any], response: dict[str, Any], scrub: Scrubber, route: str
    ) -> Path:
        model = None
        answer = response.get("body")
        if isinstance(answer, dict):
            model = answer.get("model")
        elif response.get("stream"):
            model = next((e["data"].get("model") for e in response["stream"] if isinstance(e["data"], dict)), None)
        record = {
            "provenance": {
                "source": "recorded-live",
                "recorded_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
                "model": model,
                "route": route.split("/", 2)[-1] if route.count("/") > 1 else route,
                "note": "Recorded through 'python -m helpers.mock record'; request headers are never stored.",
            },
            "request": {"body": body},
            "response": response,
        }
        # The same scrubbing as for what is relayed, on the whole text (the request body included); what is kept in
        # memory is what the file holds, so replay answers the same before and after a restart.
        written = scrub.json(record)
        text = scrub.text(json.dumps(written, indent=2, ensure_ascii=False))
        saved = json.loads(text)
        folder = self.recordings_dir / deployment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / recording_filename(saved["request"]["body"])
        path.write_text(text + "\n", encoding="utf-8")
        self.store.add(
            Recording(
                path,
                deployment,
                saved["request"]["body"],
                response["status"],
                saved["response"].get("body"),
                saved["response"].get("stream"),
                {},
                saved["provenance"],
            )
        )
        return path
