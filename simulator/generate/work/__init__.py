"""The generator's workflows, one module per family, and the tables the planner draws them from.

Families: datasets, labelling, models (and conversions), services (v1), services_v2,
authorizations, pools (old clusters and v2 pools), devenviron, notebooks, training_v1 (with
training configurations and visualization jobs) and training_v2 (with the CI robot's smoke
jobs). What they share (TeamWork, a call in the team's project, slips, waits) is in
common.py. Each workflow waits longer than the engine's DWELL for the steps it depends on,
registers what it creates busy in TeamWork while it works on it, and forgets it when it
deletes it.

- ``ROUTINES``: {persona role: [(weight, workflow), ...]}: a person's day is a few of these,
  drawn by weight;
- ``CHORES``: [(role, workflow), ...]: workflows each team runs once in every generated
  window (on one of its working days): together with the routines they make sure every
  operation the families cover is traced at least once a week.
"""

from __future__ import annotations

from simulator.generate.work import (authorizations, datasets, devenviron, labelling, models,
                                     notebooks, pools, services, services_v2, training_v1,
                                     training_v2)

# The order of both tables is part of the output: a routine is drawn with rng.choices over its
# role's list, and the chores are dealt to people and days by their index. The same seed gives
# the same bytes only while it stays (data and serving first, then compute, as it was when the
# families lived in two modules).
ROUTINES = {
    "ml-engineer": [
        (2, datasets.curate_dataset), (2, datasets.publish_dataset_version),
        (1, datasets.refresh_dataset), (1, datasets.export_dataset),
        (1, datasets.keep_customer_dataset), (2, models.import_model), (1, models.convert_model),
        (1, services.deploy_service), (1, services.switch_service),
        (1, services_v2.deploy_infer_service), (1, services_v2.switch_infer_service),
        (1, pools.size_cluster), (1, pools.manage_pool), (1, pools.review_pools),
        (6, training_v2.train_model), (4, notebooks.notebook_workday),
        (1, notebooks.notebook_experiment), (1, training_v1.legacy_training),
        (1, training_v1.save_training_config), (1, devenviron.devenv_session)],
    "data-labeller": [(5, labelling.labelling_session), (2, labelling.review_labels)],
    "ci-robot": [(2, services_v2.release_infer_service), (1, models.import_model),
                 (1, training_v2.ci_pipeline)],
    "admin": [(1, authorizations.authorize_access_key), (1, authorizations.revoke_access_key),
              (1, pools.size_cluster), (1, pools.manage_pool)],
    "auditor": [(1, pools.review_pools)],
}

CHORES = [
    ("ml-engineer", datasets.dataset_week),
    ("data-labeller", labelling.labelling_week),
    ("ml-engineer", services.model_to_service_week),
    ("ml-engineer", services_v2.infer_service_week),
    ("admin", authorizations.access_keys_week),
    ("admin", pools.cluster_week),
    ("admin", pools.pool_week),
    ("ml-engineer", devenviron.devenv_session), ("ml-engineer", notebooks.notebook_experiment),
    ("ml-engineer", training_v1.legacy_training_chore),
    ("ml-engineer", training_v1.training_config_chore),
    ("ml-engineer", training_v2.training_v2_chore),
]
