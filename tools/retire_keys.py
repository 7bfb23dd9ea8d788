"""One-off: move modules off the deprecated `nurture.keys` onto the role modules, then delete `nurture/keys.py`.

    .venv/bin/python tools/retire_keys.py $(grep -rlE "from nurture import .*\\bkeys\\b" --include=*.py .)

Rewrites `keys.NAME` to `workflow_ids.NAME`, `search_attributes.NAME`, `temporal_names.NAME` or
`sendgrid_args.NAME` and fixes the `from nurture import ...` line; run ruff format afterwards (a few lines then
need wrapping by hand). Delete this file with `nurture/keys.py` once nothing imports it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

from nurture import search_attributes, sendgrid_args, temporal_names, workflow_ids

ROLES: tuple[ModuleType, ...] = (workflow_ids, search_attributes, temporal_names, sendgrid_args)
WHERE = {
    name: module.__name__.rsplit(".", 1)[1]
    for module in ROLES
    for name in vars(module)
    if not name.startswith("_") and (name.isupper() or callable(vars(module)[name])) and name not in {"annotations"}
}


def convert(path: str) -> None:
    source = Path(path).read_text()
    used: set[str] = set()

    def role(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in WHERE:
            raise SystemExit(f"{path}: keys.{name} has no role module")
        used.add(WHERE[name])
        return f"{WHERE[name]}.{name}"

    body = re.sub(r"(?<![\w.])keys\.([A-Za-z_]+)", role, source)
    if not used:
        return

    def imports(match: re.Match[str]) -> str:
        names = [n.strip() for n in match.group(2).split(",") if n.strip() != "keys"]
        return f"{match.group(1)}from nurture import {', '.join(sorted({*names, *used}))}\n"

    body = re.sub(r"^(\s*)from nurture import ([^\n(]*\bkeys\b[^\n(]*)\n", imports, body, count=1, flags=re.M)
    Path(path).write_text(body)
    print(f"{path}: {', '.join(sorted(used))}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        convert(arg)
