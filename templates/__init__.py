"""French mail templates shipped with cpts-mailbot (Jinja2).

Each ``<name>.txt.j2`` defines a ``subject`` block and a ``body`` block; a
``<name>.html.j2`` beside it, when present, adds an HTML part. A folder set in
``[templates] path`` overrides any of them by file name.
"""

from pathlib import Path

PATH = Path(__file__).parent
