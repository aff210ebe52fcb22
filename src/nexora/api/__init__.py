"""The HTTP interface: FastAPI app, edge middleware, health and metrics, and the web UI's files."""
