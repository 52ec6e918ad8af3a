"""The name earlier docs gave the validator's Python API, kept so that code written against
them still runs: the record rules are in simulator/cts/rules.py and the reading of files in
simulator/validate_command.py (docs/validate.md). Importing this warns."""

from __future__ import annotations

import warnings

from simulator.cts.record import RATINGS
from simulator.cts.rules import (CALL_TYPES, CONSOLE, DATA_TYPES, MANAGEMENT_TYPES, USER_TYPES,
                                 Rules, check_record, rules_for)
from simulator.validate_command import (COMPANION_FILES, LABEL_KEYS, LABELS_FILE,
                                        MAX_LINE_BYTES, validate_paths)

__all__ = ["CALL_TYPES", "COMPANION_FILES", "CONSOLE", "DATA_TYPES", "LABEL_KEYS", "LABELS_FILE",
           "MANAGEMENT_TYPES", "MAX_LINE_BYTES", "RATINGS", "USER_TYPES", "Rules",
           "check_record", "rules_for", "validate_paths"]

warnings.warn("simulator.cts.validation is now simulator.cts.rules (check_record, rules_for) "
              "and simulator.validate_command (validate_paths)", DeprecationWarning,
              stacklevel=2)
