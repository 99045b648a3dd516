"""Networks: layers with a member dimension, architectures by name, and populations of members.

Importing this package registers the built-in architectures (each module registers itself).
"""

from gankit.nets import dcgan, mlp, pacgan  # noqa: F401  (registration)
from gankit.nets.layers import ACTIVATIONS
from gankit.nets.population import build_networks, choose_path, mixes_rows
from gankit.nets.spec import ARCHITECTURES, PATHS, Architecture, Role, packed_shape

__all__ = ["ACTIVATIONS", "ARCHITECTURES", "PATHS", "Architecture", "Role", "build_networks", "choose_path",
           "mixes_rows", "packed_shape"]
