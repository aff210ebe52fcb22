"""The HTTP verifiers as data: one documented, read-only "who am I" request per provider.

Each :class:`Provider` says where to send the key (header, basic auth, query or path), which statuses and
answers mean the key is invalid, and where in the answer the identity is: a dotted path into the JSON
body (``*`` walks every element of a list) or ``@name`` for a response header. Every endpoint is the
provider's documented identity, token-introspection or smallest read-only call: no writes, nothing billed.
``{token}`` in a header, query, path or body value is replaced by the key; ``{param}`` in the base URL by
the first group of ``base_param_pattern`` matched against the key (Mailchimp's data centre).

The providers live in one module per family; :data:`PROVIDERS` is all of them, by verifier name (the
name a rule gives in ``verifier = '…'``).
"""

from __future__ import annotations

from nexora.scanner.verify.providers.ai import AI
from nexora.scanner.verify.providers.base import BEARER, Provider, bearer
from nexora.scanner.verify.providers.business import BUSINESS
from nexora.scanner.verify.providers.cloud import CLOUD
from nexora.scanner.verify.providers.devtools import DEVTOOLS
from nexora.scanner.verify.providers.messaging import MESSAGING
from nexora.scanner.verify.providers.monitoring import MONITORING

__all__ = ["BEARER", "PROVIDERS", "Provider", "bearer"]

_FAMILIES = (DEVTOOLS, CLOUD, MESSAGING, AI, MONITORING, BUSINESS)
assert len({name for family in _FAMILIES for name in family}) == sum(map(len, _FAMILIES)), "duplicate verifier name"

PROVIDERS: dict[str, Provider] = {name: provider for family in _FAMILIES for name, provider in family.items()}
