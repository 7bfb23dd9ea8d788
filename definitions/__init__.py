"""Journeys written by engineers: one journey per module, named after its key; content catalogs; scoring.

Importing this package registers every journey (see `workflows.dsl.REGISTRY`). Definitions are pure: they
import only `workflows.dsl`, other definitions and the standard library's pure modules (checked by a test).
"""

from definitions import b2b_drip, b2c_cultivation, broadcasts

__all__ = ["b2b_drip", "b2c_cultivation", "broadcasts"]
