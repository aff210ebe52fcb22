"""Detectors: rules, sequences, baselines and a streaming model over activity events.

The service creates one :class:`Engine` per tenant with the tenant's :class:`DetectorSettings`, and
for each event calls ``engine.process(event, profile, context)`` then ``profile.update(event, context)``.
:data:`DETECTORS` is the catalogue the documentation and the API list.
"""

from nexora.analytics.detectors.base import Attack, Context, Detection, Geo, Severity
from nexora.analytics.detectors.catalogue import DETECTORS, FAMILIES, DetectorInfo
from nexora.analytics.detectors.engine import Engine
from nexora.analytics.detectors.settings import AllowRule, DetectorSettings

__all__ = [
    "DETECTORS",
    "FAMILIES",
    "AllowRule",
    "Attack",
    "Context",
    "Detection",
    "DetectorInfo",
    "DetectorSettings",
    "Engine",
    "Geo",
    "Severity",
]
