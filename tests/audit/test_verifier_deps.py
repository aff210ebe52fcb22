"""The offline verifier needs nothing but the standard library and ``cryptography``."""

import json
import subprocess
import sys

PROBE = """
import json, sys
before = set(sys.modules)
import nexora.audit.verifier
loaded = set(sys.modules) - before
print(json.dumps({
    "third_party": sorted({n.split(".")[0] for n in loaded} - set(sys.stdlib_module_names)),
    "nexora": sorted(n for n in loaded if n.startswith("nexora")),
}))
"""
CRYPTOGRAPHY = {"cryptography", "_cffi_backend", "_openssl", "cffi"}  # cryptography and its OpenSSL binding
VERIFIER_MODULES = [
    "nexora",
    "nexora.audit",
    "nexora.audit.encoding",
    "nexora.audit.merkle",
    "nexora.audit.verifier",
    "nexora.audit.verifier.bundle",
    "nexora.audit.verifier.log",
]


def test_the_verifier_loads_only_the_standard_library_cryptography_and_itself() -> None:
    result = subprocess.run([sys.executable, "-I", "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    assert set(loaded["third_party"]) <= CRYPTOGRAPHY | {"nexora"}, loaded["third_party"]
    assert loaded["nexora"] == VERIFIER_MODULES


def test_the_verifier_runs_as_a_module(tmp_path) -> None:
    bundle = tmp_path / "empty.jsonl"
    header = {"kind": "header", "format": "nexora-audit-bundle", "version": 1, "log": "x", "entries": 0}
    bundle.write_text(json.dumps(header) + "\n")
    result = subprocess.run(
        [sys.executable, "-I", "-m", "nexora.audit.verifier", str(bundle)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
