"""Secrets never land: not in a notebook's outputs, not in the replay server's log, not in a committed file, not
in any commit of the history.

The patterns live here and nowhere else: test_mock_recordings_data.py imports ``find_secrets`` for the recordings
(record mode is checked in test_mock_record.py).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import shutil
import string
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import requests

from helpers.config import mask
from helpers.constants import DEMO_KEY, STAND_IN_ENTRA_TOKEN
from helpers.mock import MockServer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# -- the patterns ----------------------------------------------------------------------------------------------

# A name that holds a secret: api-key, api_key, apiKey, Ocp-Apim-Subscription-Key, AZURE_OPENAI_API_KEY,
# AZURE_INFERENCE_CREDENTIAL, AzureKeyCredential, ;Key= and AccountKey= in connection strings, sig= in SAS URLs...
NAME = r"(?<![\w-])[\w-]*?(?:key|credential|token|secret|password|sig)"
# ...then what may sit between it and the value: a closing quote, JSON-escaped in a notebook (\"api-key\": \"),
# os.environ["..."] = , a header's colon, =, => , a call's ( or an argument list's comma.
SEPARATOR = r"""\\*["']?\]?[ \t]*(?:[:=]{1,2}>?|[,(])[ \t]*\\*["']?"""
# A value that looks like a key: 16 or more characters of what keys, base64 and URL-encoded signatures are made
# of, with at least one digit. Placeholders cannot match: <your-key>, $VAR, {key}, ... and ****abcd masks all
# start with a character outside this set, and made-up words (settings.credential) have no digit.
VALUE = r"(?P<value>(?=[\w+/=%-]*\d)[\w+/=%-]{16,})"
PATTERNS = {
    "a key assigned to a name": re.compile(NAME + SEPARATOR + VALUE, re.I),
    "a bearer token": re.compile(r"bearer[ \t]+" + VALUE, re.I),
    "a JSON Web Token (an Entra ID token)": re.compile(r"(?P<value>eyJ[\w-]{10,}\.[\w-]{10,})"),
}
# A key with no name beside it (print(settings.credential) in a live run): 32 or more letters and digits, at least one
# of each, the shape of Azure endpoint keys, hex or not. Completion ids have that shape too, so the places that may
# hold one (a recording's "id" fields, notebook outputs that print an id from a recording) are checked against them.
BARE_KEY = re.compile(r"(?<![\w+/=-])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}(?![\w+/=-])")
# Stricter, for the tree only (bcf2e3f): no literal bearer value at all, fake or not; use <not-a-key> or $VAR.
LITERAL_BEARER = re.compile(r"bearer\s+(?![$<{*])[A-Za-z0-9._~+/=-]{12,}", re.I)

# Fake values that look like keys on purpose, and the only files allowed to hold them ("*": any file). Each was
# only ever sent to the local replay server or a stand-in upstream; none is a real key. A value must equal an
# entry exactly: a real key glued to a fake one, or a fake one in another file, is still reported.
WRONG_KEY_IN_A_401_TEST = "wrong-key-wrong-key-wrong-key-00"
ALLOWED_FAKES: dict[str, tuple[str, ...]] = {
    # The replay server's public demo key: `python -m helpers.mock` prints it, and only the replay server takes it.
    DEMO_KEY: ("*",),
    # Deliberately wrong keys, sent to get a 401 from the replay server.
    "wrong-key-for-the-local-mock-000": ("tests/test_helpers_errors.py",),
    # In an api-key header today; commit 6d499b9 also sent it as a bearer value, which bcf2e3f replaced with a
    # placeholder. Allowed in this one file, so the history scan passes that commit and nothing else.
    WRONG_KEY_IN_A_401_TEST: ("tests/test_mock_protocol.py", "tests/test_mock_endpoint_kinds.py"),
    # Commit 6d499b9 only: notebook 02 showed a 401 with this made-up bearer value (a placeholder since bcf2e3f).
    "this-is-not-the-right-key-000": ("notebooks/02_rest_requests_httpx_curl.ipynb",),
    # The alphabet and five digits: a 32-character stand-in key for the config, notebook-runner and lab tests.
    "abcdefghijklmnopqrstuvwxyz012345": (
        "tests/test_helpers_config.py",
        "tests/test_run_notebooks.py",
        "tests/test_lab.py",
    ),
    # The key the CLI test starts its replay server with.
    "cli-test-key-for-the-mock-000000": ("tests/test_mock_cli.py",),
    # Stands in for a live key in record mode, whose tests check it is never written.
    "upstream-key-used-only-in-tests-01": ("tests/test_mock_record.py",),
    # The right and a wrong key in test_the_request_log_names_no_credential below.
    "a-key-only-this-test-uses-0123456": ("tests/test_no_secrets.py",),
    "a-wrong-key-0000000000000000000": ("tests/test_no_secrets.py",),
    # A live-looking made-up key: with it set, the helpers must not start the replay server (commit 0d60e12).
    "k3y-0f-a-live-setup-1234": ("tests/test_autostart.py",),
    # Notebook 06's example of a second resource's key, made up and saying so (commit b2e0b7d).
    "not-a-real-key-1234": ("notebooks/06_javascript_rest.ipynb",),
}


def find_secrets(text: str, path: str) -> list[str]:
    """What in ``text`` looks like a secret, masked so a failing test's report does not leak it again.

    ``path`` (relative to the repository, with forward slashes) decides which fake values are allowed.
    """
    found = []
    for what, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            value = match["value"]
            allowed_in = ALLOWED_FAKES.get(value, ())
            if "*" in allowed_in or path in allowed_in:
                continue
            found.append(f"{what}: {match[0].replace(value, mask(value))!r}")
    return found


# -- the patterns catch what they should, and only that ----------------------------------------------------------


def _real_looking_key(hexadecimal: bool = True) -> str:
    """32 random characters like an Azure key, hex or letters and digits; made up at run time so this file holds no
    key-like literal."""
    if hexadecimal:
        return secrets.token_hex(16)
    alphabet = string.ascii_letters + string.digits
    return (
        "".join(secrets.choice(alphabet) for _ in range(30))
        + secrets.choice(string.digits)
        + secrets.choice(string.ascii_letters)
    )


def _jwt() -> str:
    """A token shaped like an Entra ID one: base64url header, claims and signature."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join(
        [
            part({"alg": "RS256", "typ": "JWT"}),
            part({"aud": "https://ml.azure.com", "oid": secrets.token_hex(8)}),
            secrets.token_hex(16),
        ]
    )


# Each shape that used to pass unnoticed; <KEY> is replaced by a real-looking key.
LEAK_SHAPES = {
    "single-quoted dict": "headers = {'api-key': '<KEY>'}",
    "JSON": '{"api-key": "<KEY>"}',
    "JSON escaped inside notebook JSON": r'"source": ["headers = {\"api-key\": \"<KEY>\"}"]',
    "api_key argument": 'client = OpenAI(api_key="<KEY>")',
    "AzureKeyCredential": 'ChatCompletionsClient(endpoint, AzureKeyCredential("<KEY>"))',
    "subscription key header": "Ocp-Apim-Subscription-Key: <KEY>",
    "api-key header": "-H 'api-key: <KEY>'",
    "an *_API_KEY variable": "AZURE_OPENAI_API_KEY=<KEY>",
    "an *_CREDENTIAL variable": "export AZURE_INFERENCE_CREDENTIAL='<KEY>'",
    "a *_CREDENTIAL dict key": "{'AZURE_INFERENCE_CREDENTIAL': '<KEY>'}",
    "os.environ assignment": 'os.environ["AZURE_INFERENCE_CREDENTIAL"] = "<KEY>"',
    "setenv call": 'monkeypatch.setenv("AZURE_INFERENCE_VISION_CREDENTIAL", "<KEY>")',
    "connection string Key=": "Endpoint=https://x.cognitiveservices.azure.com/;Key=<KEY>",
    "storage AccountKey=": (
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=<KEY>==;EndpointSuffix=core.windows.net"
    ),
    "SAS sig=": "https://x.blob.core.windows.net/c/b.png?sv=2022-11-02&sp=r&sig=<KEY>%3D",
    "bearer header": "Authorization: Bearer <KEY>",
}


@pytest.mark.parametrize("shape", LEAK_SHAPES)
def test_the_patterns_catch_a_key_in_each_shape(shape):
    key = _real_looking_key()
    text = LEAK_SHAPES[shape].replace("<KEY>", key)
    found = find_secrets(text, "notebooks/01_basics.ipynb")
    assert found, f"{shape}: {text!r} was not caught"
    assert key not in "".join(found), "the report must mask the key, not repeat it"


def test_the_patterns_catch_an_entra_id_token():
    token = _jwt()
    for text in (token, f"Authorization: Bearer {token}", json.dumps({"text": f"token = '{token}'"})):
        assert find_secrets(text, "README.md"), text


PLACEHOLDERS = [
    "AZURE_INFERENCE_CREDENTIAL=<your-key>",
    "api-key: <key>",
    "-H 'Authorization: Bearer $AZURE_INFERENCE_CREDENTIAL'",
    'curl -H "api-key: ${AZURE_INFERENCE_CREDENTIAL}"',
    "AZURE_INFERENCE_SMALL_ENDPOINT=...",
    'api_key=os.environ["AZURE_INFERENCE_CREDENTIAL"]',
    "credential=DefaultAzureCredential()",
    'headers = {"api-key": key}',
    'headers = {"Authorization": f"Bearer {DEMO_KEY}"}',
    # what settings.describe() prints (a fixed value: xdist workers must collect the same ids)
    f"auth: key {'*' * 28}d779",
    f"api-key: {DEMO_KEY}",
]


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_placeholders_masks_and_the_demo_key_are_not_reported(text):
    assert find_secrets(text, "notebooks/01_basics.ipynb") == []


def test_the_allow_list_does_not_hide_a_real_looking_key():
    key = _real_looking_key()
    # Beside a placeholder, the demo key and a mask, the real-looking key is the one thing reported.
    text = f"api-key: <your-key>\napi-key: {DEMO_KEY}\nauth: key {mask(key)}\nAZURE_INFERENCE_CREDENTIAL={key}"
    assert len(find_secrets(text, "README.md")) == 1
    # An allowed fake with a real key glued on is not the allowed fake.
    assert find_secrets(f"api-key: {DEMO_KEY}{key}", "README.md")
    assert find_secrets(f"api-key: {key}-{DEMO_KEY}", "README.md")
    # A fake allowed in one test file is reported anywhere else.
    assert not find_secrets(f'{{"api-key": "{WRONG_KEY_IN_A_401_TEST}"}}', "tests/test_mock_protocol.py")
    assert find_secrets(f'{{"api-key": "{WRONG_KEY_IN_A_401_TEST}"}}', "notebooks/03_openai_sdk.ipynb")
    # No entry is bare hex, the shape of a real Azure key: every fake spells words, so a pasted key stands out.
    assert all(re.search(r"[g-z]", value, re.I) for value in ALLOWED_FAKES), "an allowed value looks like a real key"


def test_the_strict_bearer_rule_still_refuses_any_literal_value():
    assert LITERAL_BEARER.search(f"Authorization: Bearer {WRONG_KEY_IN_A_401_TEST}")
    assert not LITERAL_BEARER.search("-H 'Authorization: Bearer $AZURE_INFERENCE_CREDENTIAL'")


# -- notebooks and the replay server's log -------------------------------------------------------------------


def _outputs(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([cell.get("outputs", []) for cell in nb["cells"]])


def _recorded_ids() -> set[str]:
    """Every "id" value in data/recordings: the completion ids a notebook may print."""
    ids: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            ids.update(v for k, v in value.items() if k == "id" and isinstance(v, str))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for recording in (ROOT / "data" / "recordings").glob("*/*.json"):
        walk(json.loads(recording.read_text(encoding="utf-8")))
    return ids


# Output data that is not text a cell printed: images (base64) and ipywidgets' model ids (random hex).
NOT_PRINTED = ("image/", "application/vnd.jupyter.widget-view+json")


def bare_keys_in_outputs(path: Path, recorded_ids: set[str]) -> list[str]:
    """Key-shaped values in the text a notebook's cells printed or displayed, masked; recorded completion ids pass."""
    found = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            texts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
            texts += [value for kind, value in output.get("data", {}).items() if not kind.startswith(NOT_PRINTED)]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text if isinstance(text, str) else json.dumps(text)
                found += [mask(m[0]) for m in BARE_KEY.finditer(text) if m[0] not in recorded_ids]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_credential_in_a_notebook_output(path):
    text = _outputs(path)
    assert DEMO_KEY not in text, "an output shows the key: print settings.describe(), which masks it"
    assert STAND_IN_ENTRA_TOKEN not in text, "an output shows a bearer token"
    assert not LITERAL_BEARER.search(text), f"{path.name}: an output shows a literal bearer value"
    assert find_secrets(text, f"notebooks/{path.name}") == []
    assert bare_keys_in_outputs(path, _recorded_ids()) == [], (
        "an output shows a key-shaped value with no name beside it"
    )


def test_a_bare_key_in_an_output_is_found(tmp_path):
    # Guard against the check above passing because it looks at nothing: a live run that printed the key.
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    code = next(cell for cell in nb["cells"] if cell["cell_type"] == "code")
    for key in (_real_looking_key(), _real_looking_key(hexadecimal=False)):
        code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [f"Your key is {key}\n"]}]
        path = tmp_path / "printed.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        found = bare_keys_in_outputs(path, _recorded_ids())
        assert found == [mask(key)], key
    assert "0a1234b5de6789f01gh2i345j6789klm" in _recorded_ids(), "the documentation's completion id is recorded"


def test_the_request_log_names_no_credential(caplog, capfd):
    key = "a-key-only-this-test-uses-0123456"
    with caplog.at_level(logging.DEBUG), MockServer(key=key, log_requests=True) as mock:
        url = mock.endpoint("Meta-Llama-3.1-405B-Instruct") + "/chat/completions"
        body = {"messages": [{"role": "user", "content": "Not recorded."}]}
        for headers in (
            {"Authorization": f"Bearer {key}"},
            {"api-key": key},
            {"api-key": "a-wrong-key-0000000000000000000"},
        ):
            requests.post(url, json=body, headers=headers, timeout=10)
    logged = caplog.text + "".join(capfd.readouterr())
    assert "Not recorded." in logged or "no recording" in logged  # the log did see the requests
    assert key not in logged and "a-wrong-key" not in logged


# -- committed files and the history -------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    """Run git in ``root``; fail (never skip) without it: CI runs on a full clone, so these checks must run."""
    if shutil.which("git") is None:
        pytest.fail("git is not installed: the committed-file and history checks need it")
    done = subprocess.run(["git", *args], cwd=root, capture_output=True)
    if done.returncode:
        pytest.fail(f"git {' '.join(args)} failed in {root}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode("utf-8", errors="replace")


def _is_a_dotenv_file(name: str) -> bool:
    """.env, .env.local, config/.env...: the files that hold your key. .env.example holds placeholders only."""
    base = PurePosixPath(name).name
    return base.startswith(".env") and base != ".env.example"


def test_is_a_dotenv_file():
    assert _is_a_dotenv_file(".env") and _is_a_dotenv_file(".env.local") and _is_a_dotenv_file("notebooks/.env")
    assert not _is_a_dotenv_file(".env.example") and not _is_a_dotenv_file("docs/dotenv.md")


def test_no_committed_file_holds_a_key():
    files = [name for name in _git(ROOT, "ls-files", "-z").split("\0") if name]
    assert files, "git ls-files listed nothing"
    dotenv = [name for name in files if _is_a_dotenv_file(name)]
    assert not dotenv, f"{dotenv} hold your key: .env is in .gitignore and must never be committed"
    found = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".png", ".jpg"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{name}: {finding}" for finding in find_secrets(text, name)]
        if LITERAL_BEARER.search(text):
            found.append(f"{name}: a literal bearer value; use a placeholder such as <not-a-key>")
    assert not found, "committed files hold what looks like a secret:\n" + "\n".join(found)


def _added_lines(log: str):
    """(commit, path, line) for each line a commit added, from ``git log -p -U0 --format=%x00%H``."""
    commit = path = ""
    in_header = False
    for line in log.split("\n"):
        if line.startswith("\0"):
            commit = line[1:]
        elif line.startswith("diff --git "):
            in_header = True
        elif in_header and line.startswith("+++ "):
            path = line[4:].strip('"').removeprefix("b/")  # "+++ /dev/null" only comes before no added line
        elif line.startswith("@@"):
            in_header = False
        elif not in_header and line.startswith("+"):
            yield commit, path, line[1:]


def test_added_lines_are_read_with_their_commit_and_file():
    log = "\0abc\ndiff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n++++ kept\n"
    assert list(_added_lines(log)) == [("abc", "x.py", "+++ kept")]


def history_findings(root: Path) -> tuple[int, list[str]]:
    """How many lines the commits of every local branch and tag added, and what among them looks like a secret."""
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.fail(f"{root} is a shallow clone: fetch the whole history (git fetch --unshallow) so it can be checked")
    # --branches --tags: what is shared (not a stash, not another remote's branches). -U0: added lines only, no
    # context. --diff-merges=first-parent: a merge's own changes are read too. --no-ext-diff/--no-textconv: the
    # stored text, not a tool's rendering of it. --src-prefix/--dst-prefix: a/ and b/ whatever the git config says.
    log = _git(
        root,
        "log",
        "--branches",
        "--tags",
        "-p",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "--diff-merges=first-parent",
        "--format=%x00%H",
    )
    found, added = [], 0
    for commit, path, line in _added_lines(log):
        added += 1
        found += [f"commit {commit[:7]} added to {path}: {finding}" for finding in find_secrets(line, path)]
    # A .env file is reported even when it was empty, or held a key in a shape the patterns miss.
    for line in _git(root, "log", "--branches", "--tags", "--format=%x00%H", "--name-only", "--diff-filter=A").split(
        "\n"
    ):
        if line.startswith("\0"):
            commit = line[1:]
        elif _is_a_dotenv_file(line):
            found.append(f"commit {commit[:7]} added {line}: .env files must never be committed")
    return added, found


def test_no_commit_in_the_history_ever_added_a_key():
    """A key committed and then deleted is still in the history, and in every clone of it."""
    added, found = history_findings(ROOT)
    assert added > 1000, "the history scan read almost nothing: is the log format still parsed?"
    assert not found, (
        "the history holds what looks like a secret. Deleting it in a new commit is not enough: rotate the key, then"
        " rewrite the history (git filter-repo); for a deliberate fake, add it to ALLOWED_FAKES with a reason:\n"
        + "\n".join(found)
    )


def test_the_history_scan_finds_a_deleted_key_and_names_its_commit_and_file(tmp_path):
    key = _real_looking_key()
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]

    def commit(message: str) -> str:
        subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True, capture_output=True)
        subprocess.run([*git, "commit", "-q", "-m", message], cwd=tmp_path, check=True, capture_output=True)
        return _git(tmp_path, "rev-parse", "HEAD").strip()

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a.py").write_text(f"client = OpenAI(api_key={key!r})\n")
    (tmp_path / ".env").write_text("")
    leaked = commit("oops")
    (tmp_path / "notebooks" / "a.py").write_text("client = OpenAI()\n")
    (tmp_path / ".env").unlink()
    commit("remove the key")

    added, found = history_findings(tmp_path)
    assert added == 2
    assert len(found) == 2, found
    assert found[0].startswith(f"commit {leaked[:7]} added to notebooks/a.py: a key assigned to a name")
    assert mask(key) in found[0] and key not in found[0], "masked, so the report does not leak the key again"
    assert found[1] == f"commit {leaked[:7]} added .env: .env files must never be committed"


def test_the_history_scan_refuses_a_shallow_clone(tmp_path):
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    origin.mkdir()
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=origin, check=True)
    for n in range(2):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", str(n)], cwd=origin, check=True)
    subprocess.run(["git", "clone", "-q", "--depth", "1", origin.as_uri(), str(clone)], check=True, capture_output=True)
    with pytest.raises(pytest.fail.Exception, match="shallow clone"):
        history_findings(clone)
