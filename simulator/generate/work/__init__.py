"""The generator's workflows: what a team's people do in the simulator (see common.py)."""
