pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.app",
    "tests.fixtures.logs",
    "tests.fixtures.bus",
    "tests.fixtures.audit",
    "tests.fixtures.kafka",
    "tests.fixtures.moto",
    "tests.fixtures.live",
    "tests.fixtures.listeners",
]
