"""The official SDK clients against a running simulator, built the two ways users build them:

- "endpoint": BasicCredentials(ak, sk, project_id) and with_endpoints([...]) — no other setting;
- "region": unmodified code that says only with_region(...) and BasicCredentials(ak, sk); the
  simulator is reached through HUAWEICLOUD_SDK_* environment variables (modelarts-sim env) and
  the SDK discovers the project id with GET /v3/projects?name=REGION.

Use the `sdk` fixture: each test that takes it runs once per way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, Credentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.cache import EnvRegionCache
from huaweicloudsdkcts.v3 import CtsClient
from huaweicloudsdkcts.v3.region.cts_region import CtsRegion
from huaweicloudsdkmodelarts.v1 import ModelArtsClient
from huaweicloudsdkmodelarts.v1.region.modelarts_region import ModelArtsRegion

from simulator.sdk_env import env_lines
from tests.helpers import PROJECT_ID, USERS

REGION = "cn-north-4"


@dataclass
class Sdk:
    way: str
    modelarts: ModelArtsClient
    cts: CtsClient
    server: object

    def close(self):
        for client in (self.modelarts, self.cts):
            client.close() if hasattr(client, "close") else None


def _config() -> HttpConfig:
    cfg = HttpConfig.get_default_config()
    cfg.timeout = (5, 30)
    cfg.retry_times = 0
    return cfg


def build(server, way: str, user: str = "admin", monkeypatch=None) -> Sdk:
    u = USERS[user]
    if way == "endpoint":
        cred = BasicCredentials(u["ak"], u["sk"], PROJECT_ID)
        ma = (ModelArtsClient.new_builder().with_http_config(_config()).with_credentials(cred)
              .with_endpoints([server.endpoint]).build())
        cts = (CtsClient.new_builder().with_http_config(_config()).with_credentials(cred)
               .with_endpoints([server.endpoint]).build())
        return Sdk(way, ma, cts, server)
    # "region": what `modelarts-sim env` prints, set in the environment
    for line in env_lines(server.endpoint, REGION, u["ak"], u["sk"]):
        name, _, value = line[len("export "):].partition("=")
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Credentials, "_CACHE", {})
    monkeypatch.setattr(EnvRegionCache(), "_value", {})
    cred = BasicCredentials(u["ak"], u["sk"])
    ma = (ModelArtsClient.new_builder().with_http_config(_config()).with_credentials(cred)
          .with_region(ModelArtsRegion.value_of(REGION)).build())
    cts = (CtsClient.new_builder().with_http_config(_config()).with_credentials(cred)
           .with_region(CtsRegion.value_of(REGION)).build())
    return Sdk(way, ma, cts, server)


@pytest.fixture(params=["endpoint", "region"])
def sdk(request, server, monkeypatch):
    clients = build(server, request.param, monkeypatch=monkeypatch)
    yield clients
    clients.close()
