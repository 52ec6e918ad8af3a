"""modelarts-sim: an offline Huawei Cloud ModelArts simulator that records exact CTS traces."""

__version__ = "0.1.0"
