"""False-positive filters: placeholders, documented examples, and the context of generic assignments.

Every false positive is a bug: each check here names the kind of non-secret it removes.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import PurePosixPath
from urllib.parse import unquote

from nexora.scanner.entropy import shannon_entropy

# Keys that vendors publish in their documentation as examples.
DOCUMENTED_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "ASIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        # RFC 6749's example client credentials (s6BhdRkqt3:gX1fBat3bV), quoted by every OAuth library.
        "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
        # Azurite, the Azure storage emulator, ships this well-known development key.
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        "pk_test_TYooMQauvdEDq54NiTphI7jx",
        # Paddle's and Elastic's API reference examples.
        "pdl_live_apikey_01gtgztp8f4kek3yd4g1wrksa3_q6TGTJyvoIz7LDtXT65bX7_AQO",
        "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "xoxb-not-a-real-token-this-will-not-work",
        "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",
        "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
        "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)

# Markers that never occur by chance in a random token, whatever its length.
_PLACEHOLDER_MARKERS = re.compile(
    r"\$\{|\{\{|\}\}|<[^<>]{0,40}>|^<|>$|EXAMPLE|\.\.\.|…|(?i:xxxx)|0{8}|\*{3}|#\{[^}]*\}|%\([a-z_]+\)s"
    r"|^\$[A-Za-z_(]|^%[A-Za-z_]+%$|^\{[A-Za-z_]*\}$|(?i:your[_-]?(?:own[_-]?)?(?:api|secret|key|token|pass|access))"
)
# Words that mark a made-up value; only checked on short values, where they cannot appear by chance.
# Plain substring checks on lowered text: an alternation regex costs microseconds per character.
_PLACEHOLDER_WORDS = (
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "sample",
    "redacted",
    "replaceme",
    "replace_me",
    "replace-me",
    "inserthere",
    "insert_here",
    "fake",
    "notareal",
    "not_a_real",
    "not-a-real",
    "notreal",
    "mock",
    "fixme",
    "secrethere",
    "secret_here",
    "passwordhere",
    "password_here",
    "tokenhere",
    "token_here",
    "keyhere",
    "key_here",
    "_test_",
    "-test-",
    "foobar",
    "lorem",
    "ipsum",
    "abcdef",
    "123456",
    "qwerty",
    "hunter2",
    "tiger",
)
_PLACEHOLDER_PREFIXES = ("test", "foo", "todo")
_PLACEHOLDER_SUFFIXES = ("test", "todo")
_PLACEHOLDER_EXACT = re.compile(r"bar|(?:my)?pass(?:word)?\d*|(?:a )?secret|p@ss(?:w[o0]rd)?|passw0rd")
_ENV_REFERENCES = (
    "os.environ",
    "getenv",
    "process.env",
    "env[",
    "system.getenv",
    "env(",
    "secretkeyref",
    "vault:",
    "$(",
    "ssm:",
    "secretsmanager:",
    "!ref",
    "!sub",
    "from_env",
    "settings.",
    "config.",
    "conf.",
)
_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Short hex values are ids and truncated hashes; hex credentials are 32 characters or more.
_SHORT_HEX = re.compile(r"[0-9a-fA-F]{1,24}")
_IDENTIFIER_CASES = re.compile(r"[a-z]+(?:[_-][a-z]+)+|[A-Z]+(?:_[A-Z]+)+")
_CAMEL_WORDS = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|[A-Z]")


_ABBREVIATIONS = frozenset("mgr ctx cfg src dst msg str num buf tmp req res btn db id fn cb".split())


def _word_like(word: str) -> bool:
    lowered = word.lower()
    if lowered in _ABBREVIATIONS or (word.isupper() and len(word) <= 5):
        return True
    return len(word) >= 2 and any(c in "aeiouy" for c in lowered) and not any(c * 3 in lowered for c in set(lowered))


def is_identifier(value: str) -> bool:
    """True for names written in words (camelCase, PascalCase, snake_case, CONSTANT_CASE): they hold nothing.

    Every part must read as a word (a vowel, or a known abbreviation or acronym), so random letters do not.
    """
    if _IDENTIFIER_CASES.fullmatch(value):
        return True
    if not value.isalpha():
        return False
    words = _CAMEL_WORDS.findall(value)
    return len(words) >= 2 and all(_word_like(word) for word in words) and any(w[:1].isupper() for w in words[1:])


# Module paths and entry points: ``.models.v1_secret``, ``package.module:function``.
_MODULE_PATH = re.compile(r"\.?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?|[A-Za-z_]\w*:[A-Za-z_]\w*")
_HASH_CONTEXT = re.compile(r"(?i)sha|commit|rev|hash")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_INTEGRITY = re.compile(r"sha(?:1|256|384|512)-[A-Za-z0-9+/=]+")
_CODE_REFERENCE = re.compile(
    r"[A-Za-z_$][\w$]*(?:(?:\.|->|::)[A-Za-z_$][\w$]*)*(?:\(.*\)|\[.*\])?;?|[A-Z][A-Z0-9_]+|null|nil|None|true|false"
    r"|True|False|undefined"
)
_FILE_PATH = re.compile(r"(?:[A-Za-z]:\\|\.{0,2}/|~/)[\w./\\-]*|[\w-]+\.(?:pem|key|crt|json|txt|ya?ml|env|p12|jks)")
_NOT_SECRET_KEY_PARTS = (
    "public",
    "pubkey",
    "pub_key",
    "cert",
    "fingerprint",
    "thumbprint",
    "hash",
    "digest",
    "checksum",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "etag",
    "integrity",
    "commit",
    "revision",
    "uuid",
    "file",
    "path",
    "endpoint",
    "length",
    "format",
    "field",
    "prompt",
    "label",
    "hint",
    "policy",
    "regex",
    "pattern",
    "header",
    "timeout",
    "expir",
    "version",
    "placeholder",
    "description",
    "algorithm",
    "_len",
    "size",
    "count",
    "provider",
    "scope",
    "salt_rounds",
    "rotation",
    "manager",
    "store",
    "helper",
    "question",
    "reset",
    "confirm",
    "validator",
    "strength",
    "error",
    "message",
    "method",
    "min_",
    "max_",
    "_min",
    "_max",
    "minimum",
    "maximum",
)
_NOT_SECRET_KEY_SUFFIXES = (
    "id",
    "name",
    "user",
    "username",
    "url",
    "uri",
    "type",
    "mode",
    "env",
    "_ref",
    "_arn",
    "crt",
)
_CODE_SUFFIXES = frozenset(
    ".py .js .jsx .ts .tsx .mjs .cjs .go .java .kt .kts .scala .rb .php .cs .c .h .cc .cpp .hpp .rs .swift "
    ".m .dart .lua .pl .groovy .gradle .vue .svelte .r .jl .ex .exs .erl .clj .fs .vb .ps1 .sql .pyi".split()
)
_LOCKFILES = frozenset(
    "package-lock.json yarn.lock pnpm-lock.yaml poetry.lock Pipfile.lock Cargo.lock go.sum composer.lock "
    "Gemfile.lock uv.lock pdm.lock npm-shrinkwrap.json packages.lock.json gradle.lockfile".split()
)
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|spec|specs|__tests__|fixtures?|testdata|mocks?)(?:/|$)|(?:^|/)test_|_test\.")


def looks_like_placeholder(value: str, words: bool = True) -> bool:
    """True for template variables, documented examples and obviously made-up values.

    ``words=False`` skips the dictionary-word check, for long structured tokens where a word like
    "mock" can appear by chance.
    """
    if value in DOCUMENTED_EXAMPLES or _PLACEHOLDER_MARKERS.search(value):
        return True
    lowered = value.lower()
    if words and (
        any(word in lowered for word in _PLACEHOLDER_WORDS)
        or lowered.startswith(_PLACEHOLDER_PREFIXES)
        or lowered.endswith(_PLACEHOLDER_SUFFIXES)
        or _PLACEHOLDER_EXACT.fullmatch(lowered)
    ):
        return True
    distinct = set(lowered)
    # Runs like "aaaaaaaa" or "xxxxxxxx-xxxx" carry no secret.
    return len(distinct) <= 3 or (len(value) >= 8 and len(distinct) <= 4 and len(value) / len(distinct) > 4)


def key_names_non_secret(key: str) -> bool:
    """True when an assignment's key names something that is not a secret (``password_hash``, ``token_url``)."""
    lowered = key.lower()
    return any(part in lowered for part in _NOT_SECRET_KEY_PARTS) or lowered.endswith(_NOT_SECRET_KEY_SUFFIXES)


def references_environment(text: str) -> bool:
    """True when ``text`` reads the value from the environment or a secret store instead of holding it."""
    lowered = text.lower()
    return any(reference in lowered for reference in _ENV_REFERENCES)


@lru_cache(maxsize=4096)
def is_lockfile(path: str) -> bool:
    """Lockfiles hold integrity hashes, never credentials."""
    return PurePosixPath(path.split("!")[-1]).name in _LOCKFILES


@lru_cache(maxsize=4096)
def is_test_path(path: str) -> bool:
    """Paths of tests and fixtures, where generic values are usually made up."""
    return bool(_TEST_PATH.search(path.split("!")[-1]))


@lru_cache(maxsize=4096)
def is_code_path(path: str) -> bool:
    """Source files, where an unquoted right-hand side is an expression rather than a literal."""
    return PurePosixPath(path.split("!")[-1]).suffix.lower() in _CODE_SUFFIXES


_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _base64_text(value: str) -> str | None:
    """The printable text ``value`` is the base64 of (a Kubernetes Secret's ``password: Y2hhbmdlbWU=``)."""
    if len(value) < 8 or len(value) > 256 or not _BASE64.fullmatch(value):
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return text if text.isprintable() else None


# Keys made to be shipped to browsers and apps (Mapbox public tokens, Stripe publishable keys).
_PUBLISHABLE = re.compile(r"pk\.eyJ|pk_(?:live|test)_")


def generic_value_rejected(
    value: str,
    key: str,
    quoted: bool | None,
    path: str,
    line_text: str,
    entropy_floor: float,
    comma: bool = False,
) -> str | None:
    """Why a generic ``key = value`` match is not a secret, or ``None`` when it should be reported.

    ``comma`` marks the ``("KEY", "value")`` call form, accepted only for environment-style keys.
    """
    if is_lockfile(path):
        return "lockfile"
    if comma and not key.isupper():
        return "argument list, not an assignment"
    decoded = unquote(value) if "%" in value else value
    if decoded != value and looks_like_placeholder(decoded):
        return "placeholder"
    wrapped = _base64_text(value)
    if wrapped is not None and looks_like_placeholder(wrapped):
        return "placeholder (base64)"
    if key and key_names_non_secret(key):
        return "key names a non-secret"
    if references_environment(value) or (quoted is False and references_environment(line_text)):
        return "reference to the environment"
    if _PUBLISHABLE.match(value):
        return "publishable key (public by design)"
    if _UUID.fullmatch(value):
        return "uuid"
    if _INTEGRITY.fullmatch(value):
        return "integrity hash"
    if _HEX.fullmatch(value) and len(value) in (40, 64) and _HASH_CONTEXT.search(line_text):
        return "git or content hash"
    if value.isdigit() or re.fullmatch(r"[\d.:,\-/ ]+", value):
        return "number or date"
    if _FILE_PATH.fullmatch(value) or value.startswith(("http://", "https://")) or ("@" in value and "." in value):
        return "path, url or email"
    if quoted is False and is_code_path(path):
        return "code expression"
    if quoted is False and (_CODE_REFERENCE.fullmatch(value) and ("." in value or "(" in value or value.isupper())):
        return "code expression"
    if quoted and _CODE_REFERENCE.fullmatch(value) and ("." in value or "(" in value or value.isupper()):
        return "code reference"
    if re.fullmatch(r"[a-z]+(?:[_-][a-z]+)*", value) and len(value) < 24:
        return "plain word"
    if _SHORT_HEX.fullmatch(value) and len(value) < 32 and not key.lower().startswith(("pass", "pwd")):
        return "short hex identifier"
    if is_identifier(value) or _MODULE_PATH.fullmatch(value) or "::" in value:
        return "identifier"
    entropy = shannon_entropy(value)
    if entropy < entropy_floor:
        return "low entropy"
    if is_test_path(path) and entropy < entropy_floor + 0.3:
        return "test fixture"
    return None
