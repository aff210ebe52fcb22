pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.app",
    "tests.fixtures.logs",
    "tests.fixtures.bus",
    "tests.fixtures.kafka",
    "tests.fixtures.live",
]
