"""The HUAWEICLOUD_SDK_* exports that point unmodified SDK code at a simulator
(`modelarts-sim env`, and the plugin's modelarts_sim_env fixture)."""

from __future__ import annotations

SDK_SERVICES = ("MODELARTS", "CTS", "IAM")


def env_lines(endpoint: str, region: str, ak: str, sk: str) -> list[str]:
    """The exports that make SDK code using with_region(...) talk to the simulator."""
    suffix = region.upper().replace("-", "_")
    lines = ["export HUAWEICLOUD_SDK_AK=%s" % ak, "export HUAWEICLOUD_SDK_SK=%s" % sk,
             "export HUAWEICLOUD_SDK_IAM_ENDPOINT=%s" % endpoint]
    lines += ["export HUAWEICLOUD_SDK_REGION_%s_%s=%s" % (svc, suffix, endpoint)
              for svc in SDK_SERVICES]
    return lines
