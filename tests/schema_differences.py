"""Where the recordings and the replay server's error bodies knowingly differ from the OpenAI API's published schemas.

The ONE list of accepted differences for ``tests/test_recordings_schema.py``. Each entry is path-specific: which part
(``request``, ``response``, ``chunk``, ``error`` of a recording, or ``server-error``: a body ``helpers/mock/
error_bodies.py`` builds), which field (a JSON path, ``*`` for any list index), which schema rule fails there
(jsonschema's keyword: ``required`` for a missing field, ``type`` for a wrong type; a body of another shape
altogether shows as ``error`` missing at the top), and which subjects it applies to (glob patterns over
``<deployment>/<file stem>`` for recordings, over ``error_bodies.<function>(<variant>)`` for the server's bodies).
A violation that no entry covers fails the test, and an entry that no longer covers anything fails too, so the list
stays true.

Sources: ``../shared/seed/how-to-use-meta-llama.zh-TW.txt`` is Microsoft's "How to use Meta Llama family models" page
(the "seed page"); ``../shared/api-contract.md`` is this project's wire contract, with its own sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Difference:
    part: str  # request | response | chunk | error | server-error
    path: tuple  # JSON path of the field; "*" matches any list index, a tuple of names any one of them
    keyword: str  # the failing JSON Schema keyword: "required" (path ends with the missing field), "type", ...
    applies_to: tuple[str, ...]  # glob patterns over subject names
    what: str
    source: str
    value: object = ...  # for "type": the recorded value allowed there (... = any)

    def covers(self, part: str, subject: str, path: tuple, keyword: str, value: object) -> bool:
        if part != self.part or not any(fnmatchcase(subject, pattern) for pattern in self.applies_to):
            return False
        if keyword != self.keyword or len(path) != len(self.path):
            return False
        if self.value is not ... and value != self.value:
            return False
        return all(_step_matches(want, got) for want, got in zip(self.path, path))


def _step_matches(want: object, got: object) -> bool:
    if want == "*":
        return isinstance(got, int)
    if isinstance(want, tuple):
        return got in want
    return want == got


SEED = "../shared/seed/how-to-use-meta-llama.zh-TW.txt"
CONTRACT = "../shared/api-contract.md"

KNOWN_DIFFERENCES: dict[str, Difference] = {
    # --- Recordings ---------------------------------------------------------------------------------------------
    "request-without-model": Difference(
        "request",
        ("model",),
        "required",
        ("*",),
        "The recorded request bodies carry no `model`; the OpenAI schema requires it. The page's REST requests send "
        "none (serverless endpoints ignore it), today's recordings are derived from the page's, and the replay "
        "server's matching ignores `model` (helpers/mock/recordings.py, IGNORED_FIELDS): the client's `model` "
        "picks the deployment folder, not the recording.",
        f"{SEED} (the basic REST request); {CONTRACT} (Request body: `model` ignored by serverless endpoints)",
    ),
    "message-tool_calls-null": Difference(
        "response",
        ("choices", "*", "message", "tool_calls"),
        "type",
        ("*",),
        '`"tool_calls": null` in the answer\'s message; the schema wants an array or no field.',
        f"{SEED} (the documented answer to 'How many languages are in the world?'); {CONTRACT} (Responses)",
        value=None,
    ),
    "message-without-refusal": Difference(
        "response",
        ("choices", "*", "message", "refusal"),
        "required",
        ("*",),
        "No `refusal` in the answer's message; the schema requires it (nullable). The page's answers have none.",
        f"{SEED} (the documented answer); {CONTRACT} (Responses)",
    ),
    "logprobs-without-refusal": Difference(
        "response",
        ("choices", "*", "logprobs", "refusal"),
        "required",
        ("*/extra-parameter-logprobs",),
        "The logprobs block has `content` only; the schema also requires `refusal` (nullable). This answer is "
        "authored (its provenance says so): the page shows the logprobs request but not its answer, so no source "
        'says whether Azure sends `refusal` here. Adding `"refusal": null` to the authored file would remove '
        "this entry.",
        f"{SEED} (the logprobs extra-parameter request, no answer shown); the recording's own provenance note",
    ),
    "content-filter-type-null": Difference(
        "error",
        ("error", "type"),
        "type",
        ("*/content-filter-knife-skills",),
        'The content-filter 400 sends `"type": null`; the schema\'s Error.type is a string.',
        f"{SEED} (the content-safety example's error body); {CONTRACT} (Errors)",
        value=None,
    ),
    # --- The replay server's error bodies (helpers/mock/error_bodies.py) -----------------------------------------
    "azure-spec-error-shape": Difference(
        "server-error",
        ("error", ("type", "param")),
        "required",
        (
            "error_bodies.spec_error*",
            "error_bodies.unauthorized*",
            "error_bodies.rate_limited*",
            "error_bodies.unsupported_api_version*",
            "error_bodies.images_not_supported*",
            "error_bodies.missing_model(foundry-models)",
            "error_bodies.unknown_deployment(foundry-models)",
        ),
        'The Azure AI Model Inference spec\'s error shape `{"error": {"code", "message", "target"?, '
        '"details"?, "innererror"?}}` has no `type` or `param`, which the OpenAI Error schema requires.',
        f"{CONTRACT} (Errors: spec shape, from specification/ai/data-plane/ModelInference/.../openapi.json); "
        "microsoft/AI-Red-Teaming-Playground-Labs#14 (no_model_name), "
        "microsoft/Generative-AI-for-beginners-dotnet#302 (unknown_model)",
    ),
    "deployment-not-found-without-param": Difference(
        "server-error",
        ("error", "param"),
        "required",
        ("error_bodies.unknown_deployment(openai-v1)",),
        "The v1 endpoint's DeploymentNotFound 404 body has `type`, `code`, `message` but no `param`.",
        "NousResearch/hermes-agent#47812 (the body a user saw), as cited in helpers/mock/error_bodies.py",
    ),
    "extra-parameters-detail-400": Difference(
        "server-error",
        ("error",),
        "required",
        ("error_bodies.extra_parameters_not_allowed*",),
        'Extra parameters without `extra-parameters: pass-through`: a 400 `{"detail": "Extra parameters [...] '
        'are not allowed ..."}`, not an `{"error": ...}` body.',
        f"{CONTRACT} (Extra parameters), from BerriAI/litellm#9800",
    ),
    "too-many-images-object-error-400": Difference(
        "server-error",
        ("error",),
        "required",
        ("error_bodies.too_many_images*",),
        'Too many images: a 400 in the model server\'s own flat shape `{"object": "error", "message", '
        '"type", "param", "code": 400}`, not an `{"error": ...}` body.',
        "meta-llama/llama-cookbook#938 (Llama-4-Maverick on an Azure serverless deployment)",
    ),
    "flat-422": Difference(
        "server-error",
        ("error",),
        "required",
        ("error_bodies.invalid_value*",),
        'Unsupported or invalid value: a flat 422 `{"status", "code", "detail": {"loc", "input"}, '
        '"message"}`, not an `{"error": ...}` body.',
        f"{CONTRACT} (Errors: unsupported value, HTTP 422)",
    ),
}
