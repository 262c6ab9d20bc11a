"""A pytest plugin that only ``bench/notebook_suite.py`` loads, to measure a harness fix it recommends.

Loaded early (``-p pytest_fast_start`` with ``bench/`` on ``PYTHONPATH``), before nbval imports nbformat:
jsonschema, which nbformat uses, then skips its optional IRI format checker ``rfc3987_syntax``, which
builds dozens of Lark parsers at import time (about a second per process: the pytest controller and
each xdist worker). No notebook schema uses the ``iri`` formats.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
