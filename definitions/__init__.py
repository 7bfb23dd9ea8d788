"""Journeys written by engineers: one journey per module, named after its key; content catalogs; scoring.

Importing this package registers nothing. Entry points (the worker, the API, the CLI) call `load_definitions()`
once: it imports every module here, and each `@journey(...)` and `register_catalog(...)` fills the registry in
`workflows.dsl`. A new journey file is found without editing anything else; a running worker only learns it when
restarted. Definitions are pure: they import only `workflows.dsl`, other definitions and the standard library's
pure modules (checked by a test); this loader is the one exception.
"""

from __future__ import annotations

import importlib
import pkgutil

from workflows.dsl import REGISTRY, JourneySpec


def load_definitions() -> dict[str, JourneySpec]:
    """Import every definition module (idempotent); the journeys now registered, by key."""
    for found in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(found.name)
    return dict(REGISTRY)
