import pytest

from tests.e2e.console import browser_tools, built_console, console, demo_data, scenarios  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(name): the web/e2e scenario a browser test checks")
