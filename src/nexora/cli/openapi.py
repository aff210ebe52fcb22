"""Print the API's OpenAPI document as JSON, without a database.

``python -m nexora.cli.openapi > openapi.json`` is how the web console's TypeScript client is generated
(``make -C web api``). Building the app does not run its lifespan, so nothing connects anywhere.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from nexora.assembly import create_api
from nexora.core.config import Settings


def document() -> dict[str, Any]:
    """The OpenAPI document of the app as configured by default (routes do not depend on settings)."""
    return create_api(Settings()).openapi()


def main() -> None:
    # Sorted keys and a trailing newline keep the output byte-stable, so a stale client shows up as a diff.
    sys.stdout.write(json.dumps(document(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
