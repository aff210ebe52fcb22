"""Seeded, labelled corpus of realistic source and config files for secret-scanner benchmarks.

True secrets of many types (with valid checksums and structure, never issued by any provider) are
planted in code, config, infrastructure and documentation files, next to hard negatives that fool naive
scanners: placeholders, documented example keys, lockfile integrity hashes, UUIDs, git SHAs, checksums,
public keys and certificates, test fixtures, code references and high-entropy non-secrets.

    python benchmarks/secrets_corpus.py OUT_DIR [--files 1200] [--seed 1]

Everything is drawn from the seed except private keys, which ``cryptography`` generates fresh: the same
seed gives the same files, types and counts, with key blocks (and the line numbers after them) varying by
at most a line.

writes the files under OUT_DIR/tree and the labels to OUT_DIR/labels.json: one entry per planted item
with ``path``, ``line``, ``end_line``, ``type`` and ``label`` ("secret" or "negative"). Every line that
is not labelled "secret" is a negative.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ALNUM = string.ascii_letters + string.digits
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
WORDS = (
    "account user order invoice payment report session cache queue worker event stream record item "
    "customer product shipment price total amount status result value config client server handler"
).split()


@dataclass
class Item:
    """A planted line block: its text lines, label and type."""

    lines: list[str]
    label: str
    kind: str


class Generator:
    """Everything random comes from one seeded ``random.Random``."""

    def __init__(self, seed: int, key_pool: int = 24) -> None:
        self.rng = random.Random(seed)
        self._keys: list[str] = []
        self._key_pool = key_pool

    # -- primitives ------------------------------------------------------------------------------
    def token(self, length: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def uuid(self) -> str:
        h = self.token(32, HEX)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def crc62(self, prefix: str) -> str:
        body = self.token(30)
        value, digits = zlib.crc32(body.encode()), ""
        while value:
            value, remainder = divmod(value, 62)
            digits = B62[remainder] + digits
        return prefix + body + digits.rjust(6, "0")

    def password(self) -> str:
        styles = [
            lambda: self.token(self.rng.randint(12, 20), ALNUM + "!#%&*+-.=?@^_"),
            lambda: (
                self.rng.choice(["Summer", "Winter", "Falcon", "Orchid", "Granite", "Velvet"])
                + str(self.rng.randint(1970, 2030))
                + self.rng.choice("!#$%&*")
            ),
            lambda: (
                "-".join(
                    self.rng.choice(["correct", "horse", "battery", "staple", "maple", "river", "quartz"])
                    for _ in range(4)
                )
                + str(self.rng.randint(10, 99))
            ),
        ]
        return self.rng.choice(styles)()

    def private_key(self) -> str:
        # Key generation is slow (RSA), so a small pool of fresh keys is reused across files.
        if len(self._keys) < self._key_pool:
            kind = len(self._keys) % 3
            if kind == 0:
                key: object = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                text = key.private_bytes(  # type: ignore[attr-defined]
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.TraditionalOpenSSL,
                    serialization.NoEncryption(),
                ).decode()
            elif kind == 1:
                key = ec.generate_private_key(ec.SECP256R1())
                text = key.private_bytes(  # type: ignore[attr-defined]
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode()
            else:
                key = ed25519.Ed25519PrivateKey.generate()
                text = key.private_bytes(  # type: ignore[attr-defined]
                    serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
                ).decode()
            self._keys.append(text)
            return text
        return self.rng.choice(self._keys)

    def jwt(self) -> str:
        def part(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

        claims = {"sub": self.uuid(), "iss": "https://auth.internal", "exp": 4102444800, "scope": "admin"}
        return part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims) + "." + self.token(43, URLSAFE)

    # -- secrets: (type, variable name, value) ---------------------------------------------------
    def secret(self) -> tuple[str, str, str]:
        t = self.token
        choices: list[tuple[str, str, Callable[[], str]]] = [
            ("github-pat", "GITHUB_TOKEN", lambda: self.crc62("ghp_")),
            ("github-fine-grained", "GH_TOKEN", lambda: f"github_pat_{t(22)}_{t(59)}"),
            ("gitlab-pat", "GITLAB_TOKEN", lambda: "glpat-" + t(20, URLSAFE)),
            ("slack-bot", "SLACK_BOT_TOKEN", lambda: f"xoxb-{t(12, string.digits)}-{t(13, string.digits)}-{t(24)}"),
            (
                "slack-webhook",
                "SLACK_WEBHOOK_URL",
                lambda: (
                    "https://hooks.slack.com/services/"
                    f"T{t(10, string.ascii_uppercase)}/B{t(10, string.ascii_uppercase)}/{t(24)}"
                ),
            ),
            ("stripe-live", "STRIPE_SECRET_KEY", lambda: "sk_live_" + t(99)),
            ("gcp-api-key", "GOOGLE_API_KEY", lambda: "AIza" + t(35, URLSAFE)),
            ("sendgrid", "SENDGRID_API_KEY", lambda: f"SG.{t(22, URLSAFE)}.{t(43, URLSAFE)}"),
            ("twilio-api-key", "TWILIO_API_KEY", lambda: "SK" + t(32, HEX)),
            ("twilio-auth-token", "TWILIO_AUTH_TOKEN", lambda: t(32, HEX)),
            ("npm", "NPM_TOKEN", lambda: self.crc62("npm_")),
            (
                "pypi",
                "PYPI_TOKEN",
                lambda: (
                    "pypi-"
                    + base64.urlsafe_b64encode(b"\x02\x01\x08pypi.org\x02\x04" + self.rng.randbytes(120))
                    .decode()
                    .rstrip("=")
                ),
            ),
            ("openai", "OPENAI_API_KEY", lambda: f"sk-proj-{t(74, URLSAFE)}T3BlbkFJ{t(74, URLSAFE)}"),
            ("anthropic", "ANTHROPIC_API_KEY", lambda: f"sk-ant-api03-{t(93, URLSAFE)}AA"),
            ("huggingface", "HF_TOKEN", lambda: "hf_" + t(34, string.ascii_letters)),
            ("jwt", "AUTH_TOKEN", self.jwt),
            ("postgres-url", "DATABASE_URL", lambda: f"postgresql://app:{t(20)}@db.internal:5432/app"),
            (
                "mongodb-url",
                "MONGO_URI",
                lambda: f"mongodb+srv://svc:{t(16)}@cluster0.{t(5, 'abcdefghij')}.mongodb.net/prod",
            ),
            ("redis-url", "REDIS_URL", lambda: f"redis://:{t(32)}@cache.internal:6379/0"),
            ("password", "DB_PASSWORD", self.password),
            ("password", "SMTP_PASSWORD", self.password),
            ("generic-api-key", "PAYMENTS_API_KEY", lambda: t(32)),
            ("generic-secret", "CLIENT_SECRET", lambda: t(40, URLSAFE)),
            ("mailgun", "MAILGUN_API_KEY", lambda: "key-" + t(32, HEX)),
            ("datadog", "DD_API_KEY", lambda: t(32, HEX)),
            ("heroku", "HEROKU_API_KEY", self.uuid),
            ("shopify", "SHOPIFY_ACCESS_TOKEN", lambda: "shpat_" + t(32, HEX)),
            ("digitalocean", "DIGITALOCEAN_TOKEN", lambda: "dop_v1_" + t(64, HEX)),
            ("databricks", "DATABRICKS_TOKEN", lambda: "dapi" + t(32, HEX)),
            ("vault", "VAULT_TOKEN", lambda: "hvs." + t(91, URLSAFE)),
            ("doppler", "DOPPLER_TOKEN", lambda: "dp.pt." + t(43)),
            ("linear", "LINEAR_API_KEY", lambda: "lin_api_" + t(40)),
            (
                "discord-webhook",
                "DISCORD_WEBHOOK",
                lambda: f"https://discord.com/api/webhooks/{t(18, string.digits)}/{t(68, URLSAFE)}",
            ),
            ("telegram", "TELEGRAM_BOT_TOKEN", lambda: f"{t(10, string.digits)}:AA{t(33, URLSAFE)}"),
            (
                "azure-storage",
                "AZURE_STORAGE_CONNECTION_STRING",
                lambda: (
                    "DefaultEndpointsProtocol=https;AccountName=prodlogs;"
                    f"AccountKey={t(86, B64)}==;EndpointSuffix=core.windows.net"
                ),
            ),
            ("azure-ad-secret", "AZURE_CLIENT_SECRET", lambda: f"{t(3)}8Q~{t(34, URLSAFE)}"),
            ("sentry", "SENTRY_AUTH_TOKEN", lambda: "sntryu_" + t(64, HEX)),
            ("square", "SQUARE_ACCESS_TOKEN", lambda: "EAAA" + t(60, URLSAFE)),
            ("age", "AGE_KEY", lambda: "AGE-SECRET-KEY-1" + self._age_body()),
        ]
        kind, name, make = self.rng.choice(choices)
        return kind, name, make()

    def _age_body(self) -> str:
        charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
        data = [self.rng.randrange(32) for _ in range(52)]
        hrp = "age-secret-key-"
        values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data + [0] * 6
        generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
        checksum = 1
        for value in values:
            top = checksum >> 25
            checksum = (checksum & 0x1FFFFFF) << 5 ^ value
            for index, generator in enumerate(generators):
                if (top >> index) & 1:
                    checksum ^= generator
        polymod = checksum ^ 1
        data += [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
        return "".join(charset[d] for d in data).upper()

    # -- hard negatives ---------------------------------------------------------------------------
    def negative(self) -> tuple[str, str, str]:
        t = self.token
        choices: list[tuple[str, str, Callable[[], str]]] = [
            (
                "placeholder",
                "DB_PASSWORD",
                lambda: self.rng.choice(
                    ["changeme", "<your-password>", "${DB_PASSWORD}", "********", "password", "TODO"]
                ),
            ),
            (
                "placeholder",
                "API_KEY",
                lambda: self.rng.choice(
                    [
                        "<YOUR_API_KEY>",
                        "your_api_key_here",
                        "{{ .Values.apiKey }}",
                        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                        "${API_KEY}",
                    ]
                ),
            ),
            (
                "placeholder",
                "GITHUB_TOKEN",
                lambda: self.rng.choice(
                    ["ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "${{ secrets.GITHUB_TOKEN }}", "<token>"]
                ),
            ),
            ("documented-example", "AWS_ACCESS_KEY_ID", lambda: "AKIAIOSFODNN7EXAMPLE"),
            ("documented-example", "AWS_SECRET_ACCESS_KEY", lambda: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ("documented-example", "STRIPE_KEY", lambda: "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
            ("uuid", "REQUEST_ID", self.uuid),
            ("uuid", "TENANT_ID", self.uuid),
            ("git-sha", "GIT_COMMIT", lambda: t(40, HEX)),
            ("checksum", "ARCHIVE_SHA256", lambda: t(64, HEX)),
            ("checksum", "FILE_MD5", lambda: t(32, HEX)),
            ("etag", "ETAG", lambda: t(32, HEX)),
            ("integrity", "SCRIPT_INTEGRITY", lambda: "sha384-" + t(64, B64)),
            ("public-key", "STRIPE_PUBLISHABLE_KEY", lambda: "pk_live_" + t(99)),
            (
                "public-key",
                "SSH_PUBLIC_KEY",
                lambda: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + t(43, B64) + " deploy@ci",
            ),
            (
                "public-key",
                "MAPBOX_PUBLIC_TOKEN",
                lambda: "pk.eyJ1IjoiYWNtZSIsImEiOiJjbD" + t(20) + "." + t(22, URLSAFE),
            ),
            ("identifier", "GA_MEASUREMENT_ID", lambda: "G-" + t(10, string.ascii_uppercase + string.digits)),
            ("reference", "SECRET_NAME", lambda: "prod/payments/db-password"),
            (
                "reference",
                "SECRET_ARN",
                lambda: f"arn:aws:secretsmanager:eu-west-1:{t(12, string.digits)}:secret:prod/db-{t(6)}",
            ),
            ("reference", "TOKEN_URL", lambda: "https://auth.internal/oauth2/token"),
            ("reference", "PASSWORD_MIN_LENGTH", lambda: str(self.rng.randint(8, 16))),
            ("image-data", "LOGO_DATA", lambda: "data:image/png;base64," + t(600, B64)),
            ("redacted", "GITHUB_TOKEN", lambda: "ghp_****" + t(4)),
        ]
        return self.rng.choice(choices)

    def code_negative(self, language: str) -> str:
        options = {
            "py": [
                'password = request.form["password"]',
                "token = self._load_token()",
                'api_key = os.environ["API_KEY"]',
                'secret = vault_client.read("secret/data/app")["data"]',
                "if password != confirm_password:",
                "password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
            ],
            "js": [
                "const token = await getAccessToken();",
                "const apiKey = process.env.STRIPE_API_KEY;",
                "headers.Authorization = `Bearer ${token}`;",
                "if (password.length < MIN_PASSWORD_LENGTH) throw new Error('weak');",
            ],
            "go": [
                'token := os.Getenv("GITHUB_TOKEN")',
                "password := cfg.Database.Password",
                'secret, err := sm.GetSecretValue(ctx, "prod/db")',
            ],
            "java": ['String password = System.getenv("DB_PASSWORD");', "String token = tokenProvider.getToken();"],
        }
        return self.rng.choice(options.get(language, options["py"]))


def assignment(language: str, name: str, value: str, rng: random.Random) -> str:
    """How a value is written in each kind of file."""
    lower = name.lower()
    forms = {
        "py": [f'{name} = "{value}"', f'    "{lower}": "{value}",', f'os.environ.setdefault("{name}", "{value}")'],
        "js": [f'const {name} = "{value}";', f"  {lower}: '{value}',"],
        "ts": [f'export const {name} = "{value}";'],
        "go": [f'const {name} = "{value}"'],
        "java": [f'private static final String {name} = "{value}";'],
        "yaml": [f"  {lower}: {value}", f'  {lower}: "{value}"'],
        "json": [f'  "{lower}": "{value}",'],
        "env": [f"{name}={value}"],
        "properties": [f"{lower.replace('_', '.')}={value}"],
        "tf": [f'  {lower} = "{value}"'],
        "sh": [f'export {name}="{value}"'],
        "md": [f"Set `{name}` to `{value}` before running the service."],
    }
    return rng.choice(forms[language])


FILLER = {
    "py": lambda g: rng_line(
        g,
        [
            "def {w}_{v}(self, {w}):",
            "    return self.{w}.get({n})",
            "import {w}",
            "{W}_LIMIT = {n}",
            "    # {w} the {v} before {w}",
            "class {W}{V}:",
            "    logger.info('{w} %s', {v})",
            "",
        ],
    ),
    "js": lambda g: rng_line(
        g,
        [
            "function {w}{V}({v}) {{",
            "  return {w}.{v}({n});",
            "}}",
            "import {{ {w} }} from './{v}';",
            "// {w} {v} {w}",
            "const {w} = [{n}, {n}];",
            "",
        ],
    ),
    "ts": lambda g: rng_line(
        g,
        [
            "export function {w}{V}({v}: number): string {{",
            "  return `{w}-${{{v}}}`;",
            "}}",
            "type {W} = {{ {v}: string }};",
            "",
        ],
    ),
    "go": lambda g: rng_line(
        g, ["func {W}{V}({v} int) error {{", '\treturn fmt.Errorf("{w}: %d", {v})', "}}", 'import "{w}/{v}"', ""]
    ),
    "java": lambda g: rng_line(
        g, ["public void {w}{V}(int {v}) {{", "    this.{w} = {v} + {n};", "}}", "// {w} {v}", ""]
    ),
    "yaml": lambda g: rng_line(g, ["{w}:", "  {v}: {n}", "  {w}_{v}: {w}", "  - {w}", "# {w} {v}"]),
    "json": lambda g: rng_line(g, ['  "{w}": {n},', '  "{w}_{v}": "{w}",']),
    "env": lambda g: rng_line(g, ["{W}_{V}={n}", "{W}_HOST={w}.internal", "# {w} {v}"]),
    "properties": lambda g: rng_line(g, ["{w}.{v}={n}", "{w}.{v}.enabled=true"]),
    "tf": lambda g: rng_line(g, ['resource "aws_{w}" "{v}" {{', '  name = "{w}-{v}"', "  count = {n}", "}}"]),
    "sh": lambda g: rng_line(g, ['echo "{w} {v}"', "{w}_{v}={n}", "if [ -f {w}.{v} ]; then", "fi"]),
    "md": lambda g: rng_line(
        g, ["## {W} {v}", "The {w} service sends {v} records to the {w} queue.", "- {w}: {n}", ""]
    ),
}
EXTENSIONS = {
    "py": ".py",
    "js": ".js",
    "ts": ".ts",
    "go": ".go",
    "java": ".java",
    "yaml": ".yaml",
    "json": ".json",
    "env": ".env",
    "properties": ".properties",
    "tf": ".tf",
    "sh": ".sh",
    "md": ".md",
}


def rng_line(g: Generator, templates: list[str]) -> str:
    w, v = g.rng.choice(WORDS), g.rng.choice(WORDS)
    return g.rng.choice(templates).format(w=w, v=v, W=w.capitalize(), V=v.capitalize(), n=g.rng.randint(0, 9999))


def build(out: Path, files: int, seed: int, key_pool: int = 24) -> dict[str, int]:
    """Write the corpus and its labels; returns counts."""
    g = Generator(seed, key_pool)
    tree = out / "tree"
    labels: list[dict[str, object]] = []
    total_bytes = 0
    for index in range(files):
        language = g.rng.choice(list(FILLER))
        folder = g.rng.choice(["src", "services/api", "deploy", "config", "scripts", "docs", "tests/fixtures", "infra"])
        path = f"{folder}/{g.rng.choice(WORDS)}_{index}{EXTENSIONS[language]}"
        lines: list[str] = []
        for _ in range(g.rng.randint(40, 400)):
            roll = g.rng.random()
            if roll < 0.012:
                kind, name, value = g.secret()
                item = Item([assignment(language, name, value, g.rng)], "secret", kind)
            elif roll < 0.014:
                key = g.private_key()
                item = Item(key.strip().splitlines(), "secret", "private-key")
            elif roll < 0.040:
                kind, name, value = g.negative()
                item = Item([assignment(language, name, value, g.rng)], "negative", kind)
            elif roll < 0.046 and language in ("py", "js", "go", "java"):
                item = Item([g.code_negative(language)], "negative", "code-reference")
            else:
                lines.append(FILLER[language](g))
                continue
            start = len(lines) + 1
            lines.extend(item.lines)
            labels.append({"path": path, "line": start, "end_line": len(lines), "type": item.kind, "label": item.label})
        text = "\n".join(lines) + "\n"
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        total_bytes += len(text.encode())
    labels.extend(_lockfiles(g, tree))
    (out / "labels.json").write_text(json.dumps(labels, indent=1), encoding="utf-8")
    total_bytes += sum(p.stat().st_size for p in (tree / "web").rglob("*") if p.is_file())
    secrets = sum(1 for item in labels if item["label"] == "secret")
    return {"files": files + 2, "bytes": total_bytes, "secrets": secrets, "negatives": len(labels) - secrets}


def _lockfiles(g: Generator, tree: Path) -> list[dict[str, object]]:
    """A package-lock.json and a go.sum full of integrity hashes: pure hard negatives."""
    labels: list[dict[str, object]] = []
    lock = ["{", '  "name": "web",', '  "lockfileVersion": 3,', '  "packages": {']
    for index in range(300):
        name = f"{g.rng.choice(WORDS)}-{index}"
        lock += [
            f'    "node_modules/{name}": {{',
            '      "version": "1.0.0",',
            f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",',
        ]
        labels.append(
            {
                "path": "web/package-lock.json",
                "line": len(lock) + 1,
                "end_line": len(lock) + 1,
                "type": "lockfile-integrity",
                "label": "negative",
            }
        )
        lock += [f'      "integrity": "sha512-{g.token(86, B64)}=="', "    },"]
    lock += ["  }", "}"]
    (tree / "web").mkdir(parents=True, exist_ok=True)
    (tree / "web" / "package-lock.json").write_text("\n".join(lock) + "\n")
    gosum = []
    for index in range(300):
        gosum.append(f"github.com/acme/{g.rng.choice(WORDS)}{index} v1.{index}.0 h1:{g.token(43, B64)}=")
        labels.append(
            {
                "path": "web/go.sum",
                "line": len(gosum),
                "end_line": len(gosum),
                "type": "lockfile-integrity",
                "label": "negative",
            }
        )
    (tree / "web" / "go.sum").write_text("\n".join(gosum) + "\n")
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    print(json.dumps(build(arguments.out, arguments.files, arguments.seed)))


if __name__ == "__main__":
    main()
