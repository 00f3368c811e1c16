"""ruralgov: an agent-based model of institutional authority in rural governance.

Villagers (numpy arrays), township governments and county departments (Mesa agents) follow
formal and informal rules on a social network. See docs/ODD.md for the full description.
"""

__version__ = "0.1.0"

from .model import RuralGovernanceModel  # noqa: E402
from .params import PARAMS, defaults  # noqa: E402

__all__ = ["RuralGovernanceModel", "PARAMS", "defaults", "__version__"]
