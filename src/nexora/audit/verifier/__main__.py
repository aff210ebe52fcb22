"""``python -m nexora.audit.verifier BUNDLE [--trusted-keys FILE]``: verify a bundle offline."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from nexora.audit.verifier.bundle import BundleError, load_trusted_keys, verify_bundle


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nexora.audit.verifier", description="Verify a Nexora audit bundle offline."
    )
    parser.add_argument("bundle", type=Path, help="bundle written by 'nexora audit export'")
    parser.add_argument("--trusted-keys", type=Path, help="JSON saved from /api/v1/audit/public-key")
    args = parser.parse_args(argv)
    try:
        trusted = load_trusted_keys(args.trusted_keys) if args.trusted_keys else None
        report = verify_bundle(args.bundle, trusted)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
