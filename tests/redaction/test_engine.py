"""The redaction engine and its rule table: every rule's positives and near misses, in
plain text and inside JSON strings (once and twice encoded), through both engines.

Test secrets are built at run time from pieces (a prefix, then seeded random characters),
so no token-shaped literal sits in the repository. Expected markers are computed here from
the planted secret (sha256), not by the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import re
import string
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.transcripts import (
    claude_lines,
    codex_lines,
    hostile_lines,
    openclaw_lines,
    pi_lines,
)
from uploader.redaction import (
    MARK_PREFIX,
    Redaction,
    Redactor,
    RulesError,
    RuleSet,
    default_rules,
    load_rules,
)
from uploader.redaction.engine import Engine

ENGINES: list[Engine] = ["re"]
try:
    import hyperscan  # noqa: F401

    ENGINES.insert(0, "hyperscan")
except ImportError:  # pragma: no cover - platforms without hyperscan wheels
    pass

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"


def rand(alphabet: str, n: int, seed: int) -> str:
    return "".join(random.Random(seed).choices(alphabet, k=n))


def fp(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def marker(rule: str, secret: str) -> str:
    return f"[REDACTED:{rule}:{fp(secret)}]"


def b64url(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.fixture(scope="module", params=ENGINES)
def redactor(request: pytest.FixtureRequest) -> Redactor:
    r = Redactor(default_rules(), engine=request.param)
    assert r.engine == request.param
    return r


@pytest.fixture(scope="module")
def both() -> list[Redactor]:
    return [Redactor(default_rules(), engine=e) for e in ENGINES]


def redact_all(engines: list[Redactor], data: bytes, end: int | None = None) -> Redaction:
    """Redact with every engine; they must agree exactly."""
    results = [r.redact(data, end) for r in engines]
    for other in results[1:]:
        assert other == results[0]
    return results[0]


# -- the secrets ---------------------------------------------------------------------------


def pem(kind: str, width: int = 64, lines: int = 6, headers: str = "", seed: int = 0) -> str:
    body = "\n".join(rand(B64, width, seed + i) for i in range(lines))
    return f"-----BEGIN {kind}-----\n{headers}{body}\n=AbCd\n-----END {kind}-----"


JWT = (
    b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + b64url({"iss": "supabase", "ref": "abcdefghijkl", "role": "service_role", "iat": 1700000000})
    + "."
    + rand(URLSAFE, 43, 70)
)
ENCRYPTED_HEADERS = (
    "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C3D4E5F60718293A4B5C6D7E8F9\n\n"
)
TRUNCATED_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(
    rand(B64, 64, 80 + i) for i in range(3)
)
SLACK_PATH = "T" + rand(B32, 8, 60) + "/B" + rand(B32, 10, 61) + "/" + rand(ALNUM, 24, 62)


@dataclass(frozen=True)
class Case:
    rule: str
    text: str  # holds `secret` exactly once
    secret: str  # what is replaced (and hashed)
    encodings: tuple[str, ...] = ("plain", "json", "json2", "lines")

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.text[:24]}"


def case(rule: str, template: str, secret: str, **kw: tuple[str, ...]) -> Case:
    return Case(rule, template.format(s=secret), secret, **kw)


MULTILINE = ("json", "json2", "lines")
POSITIVES = [
    case("aws-access-key-id", "AWS_ACCESS_KEY_ID={s}", "AK" + "IA" + rand(B32, 16, 1)),
    case("aws-access-key-id", "temporary key {s}.", "AS" + "IA" + rand(B32, 16, 2)),
    case("aws-access-key-id", "{s}", "A3T" + "X" + rand(B32, 16, 3)),
    case("aws-secret-access-key", "aws_secret_access_key = {s}", rand(B64, 40, 4)),
    case(
        "aws-secret-access-key",
        '{{"SecretAccessKey": "{s}", "Expiration": "2026"}}',
        rand(ALNUM, 20, 5) + "/" + rand(ALNUM, 19, 6),
    ),
    case("aws-secret-access-key", "export AWS_SECRET_ACCESS_KEY='{s}'", rand(B64, 40, 7)),
    case("github-token", "GITHUB_TOKEN={s}", "gh" + "p_" + rand(ALNUM, 36, 8)),
    case("github-token", "token: {s}", "gh" + "s_" + rand(ALNUM, 36, 9)),
    case("github-token", "{s} (oauth)", "gh" + "o_" + rand(ALNUM, 36, 10)),
    # Also a password in a URL: the provider rule names it.
    case(
        "github-token", "git push https://x:{s}@github.com/o/r", "gh" + "u_" + rand(ALNUM, 36, 11)
    ),
    case(
        "github-token",
        "GH_TOKEN={s}",
        "github" + "_pat_" + rand(ALNUM, 22, 12) + "_" + rand(ALNUM, 59, 13),
    ),
    case("gitlab-token", "GITLAB_TOKEN={s}", "gl" + "pat-" + rand(URLSAFE, 20, 14)),
    case(
        "gitlab-token",
        "token {s} (routable)",
        "gl" + "pat-" + rand(ALNUM, 40, 15) + ".01" + rand(HEX, 7, 16),
    ),
    case("gitlab-token", "trigger {s}", "gl" + "ptt-" + rand(HEX, 40, 17)),
    case(
        "slack-token",
        "SLACK_BOT_TOKEN={s}",
        "xo"
        + "xb-"
        + rand(string.digits, 12, 18)
        + "-"
        + rand(string.digits, 13, 19)
        + "-"
        + rand(ALNUM, 24, 20),
    ),
    case(
        "slack-token",
        "user token {s}",
        "xo"
        + "xp-"
        + "-".join(rand(string.digits, 12, 21 + i) for i in range(3))
        + "-"
        + rand(HEX, 32, 24),
    ),
    case(
        "slack-token",
        "app token {s}",
        "xa"
        + "pp-1-A"
        + rand(B32, 10, 25)
        + "-"
        + rand(string.digits, 13, 26)
        + "-"
        + rand(HEX, 64, 27),
    ),
    case("slack-webhook", "curl -X POST https://hooks.slack.com/services/{s} -d hi", SLACK_PATH),
    case("stripe-key", "STRIPE_SECRET_KEY={s}", "sk" + "_live_" + rand(ALNUM, 24, 28)),
    case("stripe-key", "restricted {s}", "rk" + "_test_" + rand(ALNUM, 99, 29)),
    case("openai-api-key", "OPENAI_API_KEY={s}", "sk-" + "proj-" + rand(URLSAFE, 156, 30)),
    case(
        "openai-api-key",
        "key={s}",
        "sk-" + rand(ALNUM, 20, 31) + "T3Blbk" + "FJ" + rand(ALNUM, 20, 32),
    ),
    case("openai-api-key", "admin {s}", "sk-" + "admin-" + rand(URLSAFE, 120, 33)),
    case(
        "anthropic-api-key",
        "ANTHROPIC_API_KEY={s}",
        "sk-" + "ant-api03-" + rand(URLSAFE, 93, 34) + "AA",
    ),
    case(
        "anthropic-api-key",
        "CLAUDE_CODE_OAUTH_TOKEN={s}",
        "sk-" + "ant-oat01-" + rand(URLSAFE, 93, 35) + "AA",
    ),
    case("google-api-key", "?key={s}&q=x", "AI" + "za" + rand(URLSAFE, 35, 36)),
    case("supabase-token", "SUPABASE_ACCESS_TOKEN={s}", "sb" + "p_" + rand(HEX, 40, 37)),
    case("supabase-token", "SUPABASE_KEY={s}", "sb_" + "secret_" + rand(URLSAFE, 31, 38)),
    case(
        "npm-token",
        "//registry.npmjs.org/:_authToken={s}",
        "np" + "m_" + rand(ALNUM, 36, 39),
    ),
    case(
        "pypi-token",
        "password = {s}",
        "pypi-" + "AgEIcHlwaS5vcmc" + rand(URLSAFE, 150, 40),
    ),
    case("huggingface-token", "HF_TOKEN={s}", "hf" + "_" + rand(string.ascii_letters, 34, 41)),
    case("jwt", "SUPABASE_SERVICE_ROLE_KEY={s}", JWT),
    case("jwt", "Authorization: Bearer {s}", JWT),  # a JWT sent as a bearer token
    case("private-key", "id_rsa:\n{s}\n", pem("RSA PRIVATE KEY", seed=42), encodings=MULTILINE),
    case("private-key", "{s}", pem("OPENSSH PRIVATE KEY", 70, 7, seed=43), encodings=MULTILINE),
    case("private-key", "key: {s}", pem("EC PRIVATE KEY", lines=3, seed=44), encodings=MULTILINE),
    case("private-key", "{s}\n", pem("PRIVATE KEY", seed=45), encodings=MULTILINE),
    case("private-key", "{s}", pem("ENCRYPTED PRIVATE KEY", seed=46), encodings=MULTILINE),
    case(
        "private-key",
        "{s}",
        pem("RSA PRIVATE KEY", headers=ENCRYPTED_HEADERS, seed=47),
        encodings=MULTILINE,
    ),
    case(
        "private-key",
        "gpg --export-secret-keys:\n{s}",
        pem("PGP PRIVATE KEY BLOCK", headers="Version: GnuPG v2\n\n", seed=48),
        encodings=MULTILINE,
    ),
    # Cut short (head -4 id_rsa): replaced to the end of its string.
    case("private-key", "$ head -4 id_rsa\n{s}", TRUNCATED_KEY, encodings=("json", "json2")),
    # All on one line (an environment variable that lost its newlines).
    case("private-key", "KEY='{s}'", pem("PRIVATE KEY", seed=49).replace("\n", "")),
    case(
        "url-password",
        "DATABASE_URL=postgres://app:{s}@db.internal:5432/app",
        rand(ALNUM, 18, 50),
    ),
    case("url-password", "redis://:{s}@cache:6379/0", rand(ALNUM, 24, 51)),
    case(
        "url-password",
        "git clone https://oauth2:{s}@gitlab.example.com/group/repo.git",
        rand(ALNUM, 20, 52),
    ),
    case(
        "url-password",
        "mongodb+srv://admin:{s}@cluster0.example.net/?retryWrites=true",
        "p%40ss!" + rand(ALNUM, 12, 53),
    ),
    case("bearer-token", "Authorization: Bearer {s}", rand(ALNUM, 40, 54)),
    case(
        "bearer-token",
        "curl -H 'Authorization: Bearer {s}' https://api.example.com/v1",
        rand(ALNUM, 32, 55) + "." + rand(ALNUM, 20, 56),
    ),
    case(
        "bearer-token",
        '{{"headers": {{"Authorization": "Bearer {s}"}}}}',
        rand(ALNUM, 48, 57),
    ),
    case("bearer-token", "authorization: bearer {s}", rand(ALNUM + "-._~", 30, 58) + "9"),
]

NEGATIVES: list[tuple[str, str]] = [
    ("aws-access-key-id", "aws_access_key_id = " + "AKIA" + "IOSFODNN7" + "EXAMPLE"),
    ("aws-access-key-id", "XAKIA" + rand(B32, 16, 100)),  # inside a longer word
    ("aws-access-key-id", "AKIA" + rand(B32, 15, 101)),  # too short
    ("aws-access-key-id", "AKIA" + rand(B32, 17, 102)),  # too long
    ("aws-access-key-id", "key = AKIA" + "X" * 16),  # placeholder
    (
        "aws-secret-access-key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    ),
    ("aws-secret-access-key", "checksum: " + rand(B64, 40, 103)),  # no name next to it
    ("aws-secret-access-key", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}"),
    ("aws-secret-access-key", "the AWS secret access key is kept in the vault"),
    ("aws-secret-access-key", "aws_secret_access_key = " + rand(B64, 41, 104)),  # 41
    ("github-token", "GITHUB_TOKEN=ghp_" + "x" * 36),
    ("github-token", "ghp_" + rand(ALNUM, 20, 105)),
    ("github-token", "https://github.com/owner/repo/blob/main/gh_pages.py"),
    ("gitlab-token", "glpat-" + "x" * 20),
    ("gitlab-token", "glpat-short and global-settings"),
    ("slack-token", "SLACK_TOKEN=xoxb-your-token-here"),
    ("slack-token", "xoxb-1234-short"),
    (
        "slack-webhook",
        "https://hooks.slack.com/services/T00000000/B00000000/" + "X" * 24,
    ),
    ("slack-webhook", "see https://api.slack.com/messaging/webhooks and hooks.slack.com/services/"),
    ("stripe-key", "settings.disk_live_" + "migrationsettings = True"),
    ("stripe-key", "def task_test_" + "integrationhelpers(): pass"),
    ("stripe-key", "sk_test_known_fake_value"),
    ("stripe-key", "sk_live_" + "X" * 24),
    ("openai-api-key", "pip install scikit-learn  # sk-learn"),
    ("openai-api-key", "sk-proj-short"),
    ("openai-api-key", "task-proj-" + rand(ALNUM, 90, 106)),  # inside a longer word
    ("openai-api-key", "OPENAI_API_KEY=YOUR_API_KEY"),
    ("anthropic-api-key", "sk-ant-api03-short"),
    ("anthropic-api-key", "sk-ant-api03-" + "x" * 93 + "AA"),
    ("google-api-key", "AIza" + rand(URLSAFE, 20, 107)),
    ("google-api-key", "AIzaSy" + "X" * 33),
    ("supabase-token", "sbp_" + rand(HEX, 39, 108)),
    ("supabase-token", "sb_secret_key = load()"),
    ("npm-token", "npm_config_registry=https://registry.npmjs.org/ npm i @scope/left-pad"),
    ("npm-token", "npm_" + rand(ALNUM, 35, 109)),
    ("pypi-token", "pypi-AgEIcHlwaS5vcmc" + rand(URLSAFE, 20, 110)),
    ("pypi-token", "pip install pypi-simple"),
    ("huggingface-token", "from huggingface_hub import hf_hub_download"),
    ("huggingface-token", "hf_" + rand(string.ascii_letters, 30, 111)),
    ("huggingface-token", "hf_" + rand(string.ascii_letters, 34, 112) + "_suffix"),
    ("jwt", "a JWT header starts with eyJhbGciOi, the payload with eyJ too"),
    ("jwt", JWT.rsplit(".", 1)[0] + "."),  # no signature
    ("jwt", "eyJ" + rand(URLSAFE, 40, 113)),
    ("private-key", "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----"),
    ("private-key", "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----"),
    (
        "private-key",
        "the file starts with -----BEGIN RSA PRIVATE KEY----- and then holds the key in "
        "base64, one line after another, until the footer line",
    ),
    ("private-key", pem("PUBLIC KEY", seed=114)),
    ("private-key", pem("CERTIFICATE", seed=115)),
    ("url-password", "https://github.com/owner/repo"),
    ("url-password", "postgres://localhost/db and postgres://app@db/app"),
    ("url-password", "ssh://git@github.com:22/owner/repo.git git@github.com:owner/repo.git"),
    ("url-password", "ssh deploy@host 'uptime'; mailto:someone@example.com"),
    ("url-password", "postgres://user:password@localhost:5432/db"),
    ("url-password", "postgres://app:${DB_PASSWORD}@db/app"),
    ("url-password", 'f"postgresql://{user}:{password}@{host}/{name}"'),
    ("url-password", "https://example.com:8443/path?next=a@b http://[::1]:8080/"),
    ("bearer-token", "Authorization: Bearer $TOKEN"),
    ("bearer-token", "Authorization: Bearer <token>"),
    ("bearer-token", "Authorization: Bearer YOUR_API_KEY"),
    ("bearer-token", "Authorization: Bearer ${{ secrets.API_TOKEN }}"),
    ("bearer-token", "send a Bearer token in the Authorization header"),
    ("bearer-token", "Authorization: Bearer abc123"),
    ("bearer-token", "Authorization: Bearer " + rand(string.ascii_letters, 32, 116)),  # no digit
    ("bearer-token", 'headers = {"Authorization": f"Bearer {token}"}'),
    # Hashes, ids and blobs a transcript is full of.
    ("any", "id 3f2b1c4e-9a8d-4e7f-b6a5-0c1d2e3f4a5b and commit " + rand(HEX, 40, 117)),
    ("any", "sha256 " + rand(HEX, 64, 118) + " sha512 " + rand(HEX, 128, 119)),
    (
        "any",
        '"integrity": "sha512-' + base64.b64encode(random.Random(120).randbytes(64)).decode() + '"',
    ),
    (
        "any",
        "data:image/png;base64," + base64.b64encode(random.Random(121).randbytes(30_000)).decode(),
    ),
    ("any", "gAAAAAB" + base64.b64encode(random.Random(122).randbytes(30_000)).decode()),
    ("any", "YOUR_API_KEY, <api-key>, ${OPENAI_API_KEY}, sk-..., ghp_..., AKIA..."),
]


def encode(text: str, how: str) -> bytes:
    """`text` as one transcript line: plain, in a JSON string, in a JSON string inside a
    JSON string (a tool call's arguments), or between escaped newlines."""
    if how == "plain":
        out = text
    elif how == "json":
        out = json.dumps({"type": "message", "text": text})
    elif how == "json2":
        out = json.dumps({"arguments": json.dumps({"command": ["bash", "-lc", text]})})
    else:
        out = json.dumps({"output": "line one\n" + text + "\nline three"}, ensure_ascii=False)
    return out.encode() + b"\n"


def decode(line: bytes, how: str) -> str:
    if how == "plain":
        return line.decode()[:-1]
    if how == "json":
        return str(json.loads(line)["text"])
    if how == "json2":
        return str(json.loads(json.loads(line)["arguments"])["command"][2])
    text = str(json.loads(line)["output"])
    assert text.startswith("line one\n") and text.endswith("\nline three")
    return text[len("line one\n") : -len("\nline three")]


POSITIVE_PARAMS = [
    pytest.param(c, how, id=f"{c.id}-{how}") for c in POSITIVES for how in c.encodings
]


@pytest.mark.parametrize(("c", "how"), POSITIVE_PARAMS)
def test_each_rule_finds_its_secrets(both: list[Redactor], c: Case, how: str) -> None:
    line = encode(c.text, how)
    result = redact_all(both, line)
    out = result.data[: result.end]
    assert [rule for _, rule in result.hits] == [c.rule]
    # Only the secret changed, and the line means what it meant with the marker in place.
    assert decode(out, how) == c.text.replace(c.secret, marker(c.rule, c.secret))
    for form in {c.secret, json.dumps(c.secret)[1:-1], json.dumps(json.dumps(c.secret))[3:-3]}:
        assert form.encode() not in out
    offset, _ = result.hits[0]
    assert out[offset:].startswith(marker(c.rule, c.secret).encode())
    assert result.source_pos(len(out)) == len(line)


@pytest.mark.parametrize(
    ("text", "how"),
    [
        pytest.param(text, how, id=f"{rule}:{text[:30]}-{how}")
        for rule, text in NEGATIVES
        for how in ("plain", "json", "json2")
    ],
)
def test_near_misses_stay_untouched(both: list[Redactor], text: str, how: str) -> None:
    line = encode(text, how)
    result = redact_all(both, line)
    assert result.hits == ()
    assert result.data is line  # not even copied


def test_every_rule_has_positive_and_negative_examples() -> None:
    ids = {rule.id for rule in default_rules().rules}
    assert {c.rule for c in POSITIVES} == ids
    assert {rule for rule, _ in NEGATIVES} - {"any"} == ids


def test_rule_ids_and_descriptions() -> None:
    rules = default_rules().rules
    assert len({r.id for r in rules}) == len(rules)
    assert all(r.description and r.keywords for r in rules)
    assert MARK_PREFIX == "[REDACTED:"


def test_hyperscan_compiles_every_built_in_rule() -> None:
    if "hyperscan" not in ENGINES:
        pytest.skip("hyperscan is not installed here")
    assert Redactor(default_rules()).fallback_rules == ()


# -- one fingerprint per key, JSON kept valid --------------------------------------------


def test_a_key_has_one_fingerprint_in_text_and_in_json(both: list[Redactor]) -> None:
    key = pem("RSA PRIVATE KEY", seed=200)
    secret = rand(ALNUM, 15, 201) + "/" + rand(ALNUM, 24, 202)
    aws = f"aws_secret_access_key = {secret}"
    lines = [
        encode(key, "json"),
        encode(key, "json2"),
        json.dumps({"t": aws}).replace("/", "\\/").encode() + b"\n",  # \/ as PHP writes it
        encode(aws, "plain"),
        encode(aws, "json2"),
    ]
    found = [redact_all(both, line) for line in lines]
    text = [r.data.decode() for r in found]
    assert all(marker("private-key", key) in t for t in text[:2])
    assert all(marker("aws-secret-access-key", secret) in t for t in text[2:])


def test_a_replacement_never_leaves_half_an_escape(tmp_path: Path) -> None:
    """Rules that would cut an escape sequence or run across a string's quotes still
    leave every line valid JSON, in both engines."""
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        "[[rules]]\n"
        'id = "cutter"\n'
        "regex = 'cut[^\"]{0,9}'\n"  # may end on the backslash of \" or inside \u00e9
        'keywords = ["cut"]\n'
        "[[rules]]\n"
        'id = "across"\n'
        'regex = \'"pw": ?"[^"]*"\'\n'  # quotes included: spans two strings
        'keywords = ["pw"]\n'
    )
    rules = load_rules(rules_file)
    engines = [Redactor(rules, engine=e) for e in ENGINES]
    rng = random.Random(7)
    pieces = ["cut", "cut", "\n", '"', "\\", "é", "\t", "x", " ", "pw", "\u2028", "ab", "'"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        for line in (
            json.dumps({"a": text}).encode() + b"\n",
            json.dumps({"a": json.dumps({"pw": text})}).encode() + b"\n",
            json.dumps({"pw": text}).encode() + b"\n",
        ):
            parsed = json.loads(redact_all(engines, line).data)  # still valid JSON
            assert isinstance(parsed, dict) and len(parsed) == 1


def test_secrets_next_to_escapes(both: list[Redactor]) -> None:
    """Secrets glued to \\n, \\t, \\", \\\\ and \\uXXXX on either side, once and twice
    encoded: each is found, and every line still parses."""
    secrets = {
        "github-token": "gh" + "p_" + rand(ALNUM, 36, 300),
        "aws-access-key-id": "AK" + "IA" + rand(B32, 16, 301),
        "stripe-key": "sk" + "_live_" + rand(ALNUM, 30, 302),
        "anthropic-api-key": "sk-" + "ant-api03-" + rand(URLSAFE, 93, 303) + "AA",
    }
    glue = ["\n", "\t", '"', "\\", "é", " ", "\r\n"]
    for rule, secret in secrets.items():
        for before in glue:
            for after in glue:
                text = f"x{before}{secret}{after}y"
                for how in ("json", "json2", "lines"):
                    out = redact_all(both, encode(text, how))
                    assert [r for _, r in out.hits] == [rule], (rule, before, after, how)
                    assert decode(out.data, how) == text.replace(secret, marker(rule, secret))


# -- a pure function of each line ---------------------------------------------------------


def corpus() -> bytes:
    """Every agent's fixture session, the hostile lines, and the positives (in JSON)
    spread between them."""
    lines = [*codex_lines(), *claude_lines(), *openclaw_lines(), *pi_lines(), *hostile_lines()]
    secrets = [encode(c.text, how) for c in POSITIVES for how in c.encodings if how != "plain"]
    rng = random.Random(3)
    for line in secrets:
        lines.insert(rng.randrange(len(lines) + 1), line)
    return b"".join(lines)


def line_starts(data: bytes) -> list[int]:
    return [0, *(m.end() for m in re.finditer(b"\n", data))]


@pytest.fixture(scope="module")
def big() -> bytes:
    return corpus()


@pytest.fixture(scope="module")
def whole(both: list[Redactor], big: bytes) -> Redaction:
    return redact_all(both, big)


def test_the_output_does_not_depend_on_how_the_input_was_split(
    redactor: Redactor, big: bytes, whole: Redaction
) -> None:
    starts = line_starts(big)
    rng = random.Random(11)
    for _ in range(4):
        cuts = sorted({0, len(big), *rng.sample(starts, 40)})
        pieces, hits = [], 0
        for a, b in itertools.pairwise(cuts):
            chunk = big[a:b]
            result = redactor.redact(chunk)
            pieces.append(result.data[: result.end])
            hits += len(result.hits)
            assert result.source_pos(result.end) == len(chunk)
        assert b"".join(pieces) == whole.data
        assert hits == len(whole.hits)


def test_end_limits_the_input(redactor: Redactor, big: bytes, whole: Redaction) -> None:
    tail = b'{"partial": "gh' + b"p_" + rand(ALNUM, 36, 400).encode()
    result = redactor.redact(big + tail, len(big))
    assert result == whole
    assert result.data[: result.end] == whole.data


def test_hyperscan_without_memoryviews(big: bytes, whole: Redaction) -> None:
    """hyperscan < 0.9 scans bytes only: a read with a tail is then scanned as a copy."""
    if "hyperscan" not in ENGINES:
        pytest.skip("hyperscan is not installed here")
    redactor = Redactor(default_rules(), engine="hyperscan")
    redactor._views = False
    assert redactor.redact(big + b'{"tail": "AK' + b"IA", len(big)) == whole


def test_hits_shifts_and_source_positions(whole: Redaction, big: bytes) -> None:
    out = whole.data
    assert whole.end == len(out)
    assert len(whole.hits) == sum(len(c.encodings) - ("plain" in c.encodings) for c in POSITIVES)
    for offset, rule in whole.hits:
        assert out[offset:].startswith(f"[REDACTED:{rule}:".encode())
    assert [o for o, _ in whole.hits] == sorted(o for o, _ in whole.hits)
    # Each line boundary of the output maps to the same line boundary of the input.
    out_bounds, in_bounds = line_starts(out), line_starts(big)
    assert len(out_bounds) == len(in_bounds)
    assert [whole.source_pos(p) for p in out_bounds] == in_bounds
    assert whole.counts() == Counter(rule for _, rule in whole.hits)
    half = out_bounds[len(out_bounds) // 2]
    first, second = whole.counts(0, half), whole.counts(half)
    assert Counter(first) + Counter(second) == Counter(whole.counts())


def test_redacted_lines_still_parse(big: bytes, whole: Redaction) -> None:
    for before, after in zip(big.splitlines(), whole.data.splitlines(), strict=True):
        try:
            original = json.loads(before)
        except ValueError:
            continue
        redacted = json.loads(after)
        assert type(redacted) is type(original)


def test_redacting_again_changes_nothing(redactor: Redactor, whole: Redaction) -> None:
    again = redactor.redact(whole.data)
    assert again.hits == () and again.data is whole.data


def test_no_secret_no_copy(redactor: Redactor) -> None:
    clean = b"".join(codex_lines())
    result = redactor.redact(clean)
    assert result.data is clean and result.end == len(clean) and result.shifts == ()
    assert result.source_pos(100) == 100 and result.counts() == {}
    part = redactor.redact(clean, 1000)
    assert part.data is clean and part.end == 1000
    assert redactor.redact(b"").data == b""


def test_redact_line_and_find(redactor: Redactor) -> None:
    clean = b'{"text": "nothing here"}\n'
    assert redactor.redact_line(clean)[0] is clean
    token = "gh" + "p_" + rand(ALNUM, 36, 500)
    key = "AK" + "IA" + rand(B32, 16, 501)
    line = json.dumps({"text": f"use {token} and {key}"}).encode()
    out, rules = redactor.redact_line(line)
    assert rules == ["github-token", "aws-access-key-id"]
    assert token.encode() not in out and key.encode() not in out
    data = b"first\n" + line + b"\nthird " + key.encode() + b"\n"
    found = list(redactor.find(data))
    assert [(f.rule, f.fingerprint, f.line, f.column) for f in found] == [
        ("github-token", fp(token), 2, line.index(token.encode()) + 1),
        ("aws-access-key-id", fp(key), 2, line.index(key.encode()) + 1),
        ("aws-access-key-id", fp(key), 3, 7),
    ]


def test_threads_share_a_redactor(redactor: Redactor, big: bytes, whole: Redaction) -> None:
    starts = line_starts(big)
    cuts = [*starts[:: max(1, len(starts) // 16)], len(big)]
    chunks = [big[a:b] for a, b in itertools.pairwise(cuts) if b > a]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(redactor.redact, chunks * 3))
    assert b"".join(r.data[: r.end] for r in results[: len(chunks)]) == whole.data
    assert [r.data for r in results[: len(chunks)]] * 3 == [r.data for r in results]


# -- rules files --------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_a_rules_file_adds_rules_and_an_allowlist(tmp_path: Path) -> None:
    fake_stripe = "sk" + "_test_" + rand(ALNUM, 24, 600)
    path = write(
        tmp_path,
        f"""
[[rules]]
id = "acme-token"
regex = 'acme_[a-z0-9]{{32}}'
secret_group = 0
keywords = ["acme_"]

[[rules]]
id = "acme-session"
regex = 'session=(acs[0-9]{{12}})'
secret_group = 1

[allowlist]
regexes = ['^AKIA.*Q$']
values = ["{fake_stripe}"]
""",
    )
    rules = load_rules(path)
    assert [r.id for r in rules.rules[-2:]] == ["acme-token", "acme-session"]
    assert rules.rules[: len(default_rules().rules)] == default_rules().rules
    engines = [Redactor(rules, engine=e) for e in ENGINES]
    acme = "acme_" + rand(string.ascii_lowercase + string.digits, 32, 601)
    session = "acs" + rand(string.digits, 12, 602)
    aws_allowed = "AK" + "IA" + rand(B32, 15, 603) + "Q"
    text = f"{acme} session={session} {fake_stripe} {aws_allowed}"
    out = redact_all(engines, encode(text, "json"))
    assert decode(out.data, "json") == (
        f"{marker('acme-token', acme)} session={marker('acme-session', session)} "
        f"{fake_stripe} {aws_allowed}"
    )


def test_rules_hyperscan_cannot_run_use_the_keyword_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[rules]]
id = "lookahead-only"
regex = '(?=(acme_[a-z0-9]{32}))'
secret_group = 1
keywords = ["acme_"]

[[rules]]
id = "whole-line"
regex = '\\Atoken=([0-9a-f]{24})\\Z'
secret_group = 1
""",
    )
    engines = [Redactor(load_rules(path), engine=e) for e in ENGINES]
    if "hyperscan" in ENGINES:
        assert engines[0].fallback_rules == ("lookahead-only", "whole-line")
    acme = "acme_" + rand(string.ascii_lowercase + string.digits, 32, 700)
    token = rand(HEX, 24, 701)
    data = f"x {acme}\ntoken={token}\n token={token}\n".encode()
    out = redact_all(engines, data)
    assert out.data.decode().splitlines() == [
        f"x {marker('lookahead-only', acme)}",
        f"token={marker('whole-line', token)}",
        f" token={token}",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rules]]\nid = 'x'\nregex = 'a'\nfoo = 1\n", ["rule 'x'", "unknown key 'foo'"]),
        ("[rule]\nid = 'x'\n", ["unknown key 'rule'", "at the top level"]),
        ("[[rules]]\nid = 'x'\nregex = 'a('\n", ["rule 'x'", "'regex' does not compile"]),
        ("[[rules]]\nid = 'Bad_Id'\nregex = 'a'\n", ["'Bad_Id'", "'id' must be"]),
        ("[[rules]]\nregex = 'a'\n", ["rule #1", "'id' must be"]),
        (
            "[[rules]]\nid = 'x'\nregex = 'a'\n[[rules]]\nid = 'x'\nregex = 'b'\n",
            ["rule 'x'", "already used by an earlier rule"],
        ),
        ("[[rules]]\nid = 'github-token'\nregex = 'a'\n", ["already used by a built-in rule"]),
        ("[[rules]]\nid = 'x'\nregex = 'a(b)'\nsecret_group = 2\n", ["'secret_group' is 2"]),
        ("[[rules]]\nid = 'x'\nregex = 'a'\nsecret_group = -1\n", ["'secret_group' must be"]),
        ("[[rules]]\nid = 'x'\nregex = 'a*'\n", ["matches an empty string"]),
        ("[[rules]]\nid = 'x'\nregex = 'a'\nkeywords = 'a'\n", ["'keywords' must be"]),
        ("[[rules]]\nid = 'x'\nregex = 'a'\nignore_case = 1\n", ["'ignore_case' must be"]),
        ("[[rules]]\nid = 'x'\nregex = 'a'\nprefilter = '('\n", ["'prefilter' does not"]),
        ("[[rules]]\nid = 'x'\n", ["rule 'x'", "'regex' is missing"]),
        ("[allowlist]\nregexes = ['(']\n", ["allowlist regex '('", "does not compile"]),
        ("[allowlist]\nvalue = ['a']\n", ["unknown key 'value'", "[allowlist]"]),
        ("[allowlist]\nvalues = 'a'\n", ["allowlist 'values' must be"]),
        ("rules = 3\n", ["'rules' must be an array"]),
        ("[[rules]]\nid = 'x'\nregex = 'a'\n[[rules]\n", ["invalid TOML", "line 4"]),
    ],
)
def test_bad_rules_files_say_what_is_wrong(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    error = info.value
    assert error.message.startswith(f"{path}: ")
    for part in expected:
        assert part in error.message
    assert error.hint
    assert error.exit_code == 2


def test_a_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"cannot read the rules file .*nope\.toml"):
        load_rules(tmp_path / "nope.toml")


def test_defaults_and_no_file() -> None:
    assert load_rules(None) is default_rules()
    assert isinstance(default_rules(), RuleSet)
