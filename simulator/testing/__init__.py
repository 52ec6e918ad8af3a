"""Testing with the simulator: the pytest plugin's fixtures (simulator.testing.plugin, loaded
through the ``pytest11`` entry point), the helper object they give (ModelArtsSim) and the
``modelarts-sim ctl`` command (simulator.testing.ctl). docs/testing.md shows them in use.
"""

from simulator.testing.client import (Credentials, Fault, ModelArtsSim, SimResponse,
                                      SimulatorError, connect)

__all__ = ["Credentials", "Fault", "ModelArtsSim", "SimResponse", "SimulatorError", "connect"]
