"""The shared kernel: settings, database, tenancy, event bus, errors, crypto, observability."""
