"""What every bulk-load worker reads, loaded once by the fork server that forks them.

:class:`hub.bulk.Workers` names this module for the fork server to import
before it forks a worker: the workers then share the server's modules and
reference tables instead of importing and loading their own.
"""

from __future__ import annotations

import hub.bulk  # noqa: F401  (imported here so that the workers find it loaded)
from matching.standardize import load_reference_tables

load_reference_tables()
