"""Importing CRM contacts, orders and event attendance from CSV: parse every line first, then apply all or nothing.

`parse` checks the file on its own (columns, values, duplicates); `apply` resolves contacts by email or external id
and writes in the caller's transaction. Any bad line refuses the whole file, naming every bad line.
"""

from nurture.lifecycle.imports.apply import ImportRefusedError, ImportResult, import_file
from nurture.lifecycle.imports.parse import KINDS, LineError

__all__ = ["KINDS", "ImportRefusedError", "ImportResult", "LineError", "import_file"]
