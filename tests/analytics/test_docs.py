"""docs/analytics.md lists every detector and setting as the code has them."""

from pathlib import Path

from nexora.analytics.detectors import DETECTORS
from nexora.analytics.docs import COMMAND, update

DOC = Path(__file__).parents[2] / "docs" / "analytics.md"


def test_the_generated_blocks_of_the_analytics_doc_are_current() -> None:
    text = DOC.read_text()
    assert text == update(text), f"run: {COMMAND}"
    for detector in DETECTORS:
        assert f"`{detector}`" in text
