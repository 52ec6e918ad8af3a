"""The operation catalog: one row per operation the simulator knows.

Routing, tracing, CTS ListOperations, the coverage table and the synthetic generator all read
this table; nothing else in the code names a CTS trace name.

Paths are written as the API reference writes them (``/v2/{project_id}/datasets``). A row whose
``trace_name`` is None is served but not audited. ``when`` picks one row among several that share
a method and path, by a field of the JSON body: ``("action", "start")`` means body["action"] ==
"start"; ``("status", None)`` means the body has a "status" key at all.

``seed_row`` numbers the rows of the seed list (shared/seed, 49 rows); two catalog rows may share
a seed row when the reference could not say which of two endpoints emits the trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from simulator.errors import CTS, DEVENVIRON, IAM, IS_SUCCESS, MODELARTS, OBS, TRAINING_V2, Dialect

# source of a row's facts
SEED = "seed"  # the trace name and resource type are in the CTS key-operations list
DOCUMENTED = "documented"  # the path and body are in Huawei's API reference
INFERRED = "inferred"  # no public source: a shape we chose, said so in the coverage table

# family -> the dialect its errors are answered in (simulator/errors.py); the families with a
# throttling code of their own (modelarts-api.md 1.2) say so here
FAMILIES: dict[str, Dialect] = {
    "datasets": MODELARTS.throttled_as("ModelArts.4395"),
    "devenviron": DEVENVIRON,
    "training_jobs": IS_SUCCESS.throttled_as("ModelArts.2799"),
    "training_configs": IS_SUCCESS,
    "visualization_jobs": IS_SUCCESS,
    "models": MODELARTS,
    "conversions": MODELARTS,
    "services": MODELARTS,
    "authorizations": MODELARTS,
    "clusters": MODELARTS,
    "notebooks": MODELARTS,
    "training_v2": TRAINING_V2.throttled_as("ModelArts.2799"),
    "services_v2": MODELARTS,
    "pools": MODELARTS,
    "cts": CTS,
    "iam": IAM,
    "obs": OBS,
}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str | None
    path: str | None
    family: str
    trace_name: str | None
    resource_type: str | None
    read_only: bool
    source: str
    summary: str
    seed_row: int | None = None
    when: tuple[str, str | None] | None = None
    # "required"; "none" (POST /v3/auth/tokens carries its own password); "optional" (checked
    # when the request carries credentials, else the handler decides)
    auth: str = "required"
    service_type: str = "ModelArts"
    note: str = ""  # what is uncertain about this row, shown in the coverage table
    api_version: str = field(default="", compare=False)
    # any role may call it, read-only users included: the caller acts on itself (IAM issues a
    # token or temporary keys to any user for themselves), so the walk's role check skips it
    any_role: bool = False
    # the family's error dialect (FAMILIES), looked up once: every call's checks read it
    dialect: Dialect = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        if not self.api_version and self.path:
            object.__setattr__(self, "api_version", self.path.split("/")[1])
        object.__setattr__(self, "dialect", FAMILIES[self.family])

    @property
    def traced(self) -> bool:
        return self.trace_name is not None

    def matches_body(self, body) -> bool:
        if self.when is None:
            return True
        key, value = self.when
        if not isinstance(body, dict) or key not in body:
            return False
        return value is None or body[key] == value


def _op(operation_id, method, path, family, trace_name, resource_type, source, summary, *,
        read_only=None, seed_row=None, when=None, auth="required", service_type="ModelArts",
        note="", api_version="", any_role=False):
    if read_only is None:
        read_only = method == "GET"
    return Operation(operation_id, method, path, family, trace_name, resource_type, read_only,
                     source, summary, seed_row, when, auth, service_type, note, api_version,
                     any_role)


_NO_API = "no public API: path and body are the simulator's own shape"
_NO_V2_NAME = "Huawei publishes no trace name for this operation: the name is inferred " \
    "(rename it with [trace_names] in the settings)"
_NO_OBS_NAME = "Huawei publishes no data-trace name the simulator could find: the name is the " \
    "operation's, in the style of OBS management traces (rename it with [trace_names])"
_CTS_AUDIT = "CTS records its own operations (user guide, Auditing: usermanual-cts " \
    "cts_03_0021_01, cts_03_0057)"
_NO_TAG_NAME = "CTS's Auditing page names no trace for tag operations: served, not audited " \
    "(a read-only user is still refused)"
_FOR_ONESELF = "any user, read-only ones included, obtains this for itself: the role check " \
    "does not apply"
_WHICH_LABEL = "the reference cannot say which label endpoint emits this trace: both do"


_DS = "/v2/{project_id}/datasets"
_NB = "/v1/{project_id}/notebooks"
_TJ = "/v2/{project_id}/training-jobs"
_SV = "/v2/{project_id}/services"
_PL = "/v2/{project_id}/pools"
_ANN = _DS + "/{dataset_id}/data-annotations"

OPERATIONS: tuple[Operation, ...] = (
    # ---- data management (seed rows 1-14) ------------------------------------------------
    _op("CreateDataset", "POST", _DS, "datasets", "createDataset", "dataset", SEED,
        "Creating a dataset", seed_row=1),
    _op("DeleteDataset", "DELETE", _DS + "/{dataset_id}", "datasets", "deleteDataset", "dataset",
        SEED, "Deleting a dataset", seed_row=2),
    _op("UpdateDataset", "PUT", _DS + "/{dataset_id}", "datasets", "updateDataset", "dataset",
        SEED, "Updating a dataset", seed_row=3),
    _op("CreateDatasetVersion", "POST", _DS + "/{dataset_id}/versions", "datasets",
        "publishDatasetVersion", "dataset", SEED, "Publishing a version of a dataset", seed_row=4),
    _op("DeleteDatasetVersion", "DELETE", _DS + "/{dataset_id}/versions/{version_id}", "datasets",
        "deleteDatasetVersion", "dataset", SEED, "Deleting a dataset version", seed_row=5),
    _op("SyncDataSource", "POST", _DS + "/{dataset_id}/sync-data", "datasets", "syncDataSource",
        "dataset", SEED, "Synchronizing the data source", seed_row=6),
    _op("CreateExportTask", "POST", _DS + "/{dataset_id}/export-tasks", "datasets",
        "exportDataFromDataset", "dataset", SEED, "Exporting a dataset", seed_row=7),
    _op("CreateImportTask", "POST", _DS + "/{dataset_id}/import-tasks", "datasets",
        "importSamplesToDataset", "dataset", SEED, "Importing samples to a dataset", seed_row=8),
    _op("CreateLabels", "POST", _ANN + "/labels", "datasets", "createLabel", "dataset", SEED,
        "Creating a dataset label", seed_row=9),
    _op("UpdateLabels", "PUT", _ANN + "/labels", "datasets", "updateLabel", "dataset", SEED,
        "Updating dataset labels in a batch", seed_row=10,
        note=_WHICH_LABEL),
    _op("UpdateLabel", "PUT", _ANN + "/labels/{label_name}", "datasets", "updateLabel", "dataset",
        SEED, "Updating a dataset label", seed_row=10, note=_WHICH_LABEL),
    _op("DeleteLabels", "POST", _ANN + "/labels/delete", "datasets", "deleteLabel", "dataset",
        SEED, "Deleting a dataset label", seed_row=11,
        note="trace mapped to the batch label delete by inference"),
    _op("DeleteLabelAndSamples", "DELETE", _ANN + "/labels/{label_name}", "datasets",
        "deleteLabelWithSamples", "dataset", SEED, "Deleting a dataset label and its samples",
        seed_row=12, note="trace mapped to the single-label delete by inference"),
    _op("UploadSamples", "POST", _ANN + "/samples", "datasets", "uploadSamples", "dataset", SEED,
        "Adding samples", seed_row=13),
    _op("DeleteSamples", "POST", _ANN + "/samples/delete", "datasets", "deleteSamples", "dataset",
        SEED, "Deleting samples", seed_row=14),
    # data management reads (served, not audited)
    _op("ListDatasets", "GET", _DS, "datasets", None, "dataset", DOCUMENTED, "Listing datasets"),
    _op("ShowDataset", "GET", _DS + "/{dataset_id}", "datasets", None, "dataset", DOCUMENTED,
        "Querying a dataset"),
    _op("ListDatasetVersions", "GET", _DS + "/{dataset_id}/versions", "datasets", None, "dataset",
        DOCUMENTED, "Listing dataset versions"),
    _op("ShowDatasetVersion", "GET", _DS + "/{dataset_id}/versions/{version_id}", "datasets", None,
        "dataset", DOCUMENTED, "Querying a dataset version"),
    _op("ShowSyncStatus", "GET", _DS + "/{dataset_id}/sync-data/status", "datasets", None,
        "dataset", DOCUMENTED, "Querying the data source synchronization status"),
    _op("ListExportTasks", "GET", _DS + "/{dataset_id}/export-tasks", "datasets", None, "dataset",
        DOCUMENTED, "Listing export tasks"),
    _op("ShowExportTask", "GET", _DS + "/{dataset_id}/export-tasks/{task_id}", "datasets", None,
        "dataset", DOCUMENTED, "Querying an export task"),
    _op("ListImportTasks", "GET", _DS + "/{dataset_id}/import-tasks", "datasets", None, "dataset",
        DOCUMENTED, "Listing import tasks"),
    _op("ShowImportTask", "GET", _DS + "/{dataset_id}/import-tasks/{task_id}", "datasets", None,
        "dataset", DOCUMENTED, "Querying an import task"),
    _op("ListLabels", "GET", _ANN + "/labels", "datasets", None, "dataset", DOCUMENTED,
        "Listing dataset labels"),
    _op("ListSamples", "GET", _ANN + "/samples", "datasets", None, "dataset", DOCUMENTED,
        "Listing samples"),
    _op("ShowSample", "GET", _ANN + "/samples/{sample_id}", "datasets", None, "dataset",
        DOCUMENTED, "Querying a sample"),

    # ---- development environment, old DevEnviron API (seed rows 15-18) ---------------------
    _op("CreateDevEnvInstance", "POST", "/v1/{project_id}/demanager/instances", "devenviron",
        "create_instance", "Notebook", SEED, "Creating a notebook instance", seed_row=15),
    _op("DeleteDevEnvInstance", "DELETE", "/v1/{project_id}/demanager/instances/{instance_id}",
        "devenviron", "delete_instance", "Notebook", SEED, "Deleting a notebook instance",
        seed_row=16),
    _op("StartDevEnvInstance", "POST", "/v1/{project_id}/demanager/instances/{instance_id}/action",
        "devenviron", "change_instance_status", "Notebook", SEED, "Starting a notebook instance",
        seed_row=17, when=("action", "start")),
    _op("StopDevEnvInstance", "POST", "/v1/{project_id}/demanager/instances/{instance_id}/action",
        "devenviron", "change_instance_status", "Notebook", SEED, "Stopping a notebook instance",
        seed_row=18, when=("action", "stop")),

    # ---- training, old generation (seed rows 19-32) ----------------------------------------
    _op("CreateTrainingJob", "POST", "/v1/{project_id}/training-jobs", "training_jobs",
        "createModelArtsTrainJob", "ModelArtsTrainJob", SEED, "Creating a training job",
        seed_row=19),
    _op("CreateTrainingJobVersion", "POST", "/v1/{project_id}/training-jobs/{job_id}/versions",
        "training_jobs", "createModelArtsTrainVersion", "ModelArtsTrainJob", SEED,
        "Creating a version of a training job", seed_row=20),
    _op("StopTrainingJobVersion", "POST",
        "/v1/{project_id}/training-jobs/{job_id}/versions/{version_id}/stop", "training_jobs",
        "stopModelArtsTrainVersion", "ModelArtsTrainJob", SEED, "Stopping a training job",
        seed_row=21),
    _op("UpdateTrainingJobDescription", "PUT", "/v1/{project_id}/training-jobs/{job_id}",
        "training_jobs", "updateModelArtsTrainDesc", "ModelArtsTrainJob", SEED,
        "Modifying the description of a training job", seed_row=22),
    _op("DeleteTrainingJobVersion", "DELETE",
        "/v1/{project_id}/training-jobs/{job_id}/versions/{version_id}", "training_jobs",
        "deleteModelArtsTrainVersion", "ModelArtsTrainJob", SEED,
        "Deleting a training job version", seed_row=23),
    _op("DeleteTrainingJob", "DELETE", "/v1/{project_id}/training-jobs/{job_id}", "training_jobs",
        "deleteModelArtsTrainJob", "ModelArtsTrainJob", SEED, "Deleting a training job",
        seed_row=24),
    _op("CreateTrainingJobConfig", "POST", "/v1/{project_id}/training-job-configs",
        "training_configs", "createModelArtsTrainConfig", "ModelArtsTrainConfig", SEED,
        "Creating a training job configuration", seed_row=25),
    _op("UpdateTrainingJobConfig", "PUT", "/v1/{project_id}/training-job-configs/{config_name}",
        "training_configs", "updateModelArtsTrainConfig", "ModelArtsTrainConfig", SEED,
        "Modifying a training job configuration", seed_row=26),
    _op("DeleteTrainingJobConfig", "DELETE",
        "/v1/{project_id}/training-job-configs/{config_name}", "training_configs",
        "deleteModelArtsTrainConfig", "ModelArtsTrainConfig", SEED,
        "Deleting a training job configuration", seed_row=27),
    _op("CreateVisualizationJob", "POST", "/v1/{project_id}/visualization-jobs",
        "visualization_jobs", "createModelArtsTensorboardJob", "ModelArtsTensorboardJob", SEED,
        "Creating a visualization job", seed_row=28),
    _op("DeleteVisualizationJob", "DELETE", "/v1/{project_id}/visualization-jobs/{job_id}",
        "visualization_jobs", "deleteModelArtsTensorboardJob", "ModelArtsTensorboardJob", SEED,
        "Deleting a visualization job", seed_row=29),
    _op("UpdateVisualizationJobDescription", "PUT", "/v1/{project_id}/visualization-jobs/{job_id}",
        "visualization_jobs", "updateModelArtsTensorboardDesc", "ModelArtsTensorboardJob", SEED,
        "Modifying the description of a visualization job", seed_row=30),
    _op("StopVisualizationJob", "POST", "/v1/{project_id}/visualization-jobs/{job_id}/stop",
        "visualization_jobs", "stopModelArtsTensorboardJob", "ModelArtsTensorboardJob", SEED,
        "Stopping a visualization job", seed_row=31),
    _op("RestartVisualizationJob", "POST", "/v1/{project_id}/visualization-jobs/{job_id}/restart",
        "visualization_jobs", "restartModelArtsgTensorboardJob", "ModelArtsTensorboardJob", SEED,
        "Restarting a visualization job", seed_row=32),

    # ---- model management (seed rows 33-38) ------------------------------------------------
    _op("CreateModel", "POST", "/v1/{project_id}/models", "models", "addModel", "model", SEED,
        "Importing a model", seed_row=33),
    _op("UpdateModel", "PUT", "/v1/{project_id}/models/{model_id}", "models", "updateModel",
        "model", SEED, "Updating a model", seed_row=34, note=_NO_API),
    _op("DeleteModel", "DELETE", "/v1/{project_id}/models/{model_id}", "models", "deleteModel",
        "model", SEED, "Deleting a model", seed_row=35),
    _op("CreateConversionTask", "POST", "/v1/{project_id}/conversions", "conversions",
        "addConvert", "convert", SEED, "Adding a model conversion task", seed_row=36,
        note=_NO_API),
    _op("UpdateConversionTask", "PUT", "/v1/{project_id}/conversions/{task_id}", "conversions",
        "updateConvert", "convert", SEED, "Updating a model conversion task", seed_row=37,
        note=_NO_API),
    _op("DeleteConversionTask", "DELETE", "/v1/{project_id}/conversions/{task_id}", "conversions",
        "deleteConvert", "convert", SEED, "Deleting a model conversion task", seed_row=38,
        note=_NO_API),

    # ---- service management (seed rows 39-49) ----------------------------------------------
    _op("CreateService", "POST", "/v1/{project_id}/services", "services", "addService", "service",
        SEED, "Deploying a model as a service", seed_row=39),
    _op("DeleteService", "DELETE", "/v1/{project_id}/services/{service_id}", "services",
        "deleteService", "service", SEED, "Deleting a service", seed_row=40),
    _op("StartOrStopService", "PUT", "/v1/{project_id}/services/{service_id}", "services",
        "startOrStopService", "service", SEED, "Starting/stopping a service", seed_row=42,
        when=("status", None)),
    _op("UpdateService", "PUT", "/v1/{project_id}/services/{service_id}", "services",
        "updateService", "service", SEED, "Updating a service", seed_row=41),
    _op("CreateAgencyAuthorization", "POST", "/v2/{project_id}/authorizations",
        "authorizations", None, "service", DOCUMENTED,
        "Authorizing ModelArts to use an agency (not in the seed list: not audited)",
        when=("type", "agency")),
    _op("CreateAuthorization", "POST", "/v2/{project_id}/authorizations", "authorizations",
        "addAkSk", "service", SEED, "Adding an access key", seed_row=43,
        when=("type", "credential"),
        note="trace mapped to credential authorizations by inference"),
    _op("DeleteAuthorizations", "DELETE", "/v2/{project_id}/authorizations", "authorizations",
        "deleteAkSk", "service", SEED, "Deleting an access key", seed_row=44,
        note="trace mapped to credential authorizations by inference"),
    _op("CreateCluster", "POST", "/v1/{project_id}/clusters", "clusters", "createCluster",
        "cluster", SEED, "Creating a dedicated resource pool", seed_row=45, note=_NO_API),
    _op("DeleteCluster", "DELETE", "/v1/{project_id}/clusters/{cluster_id}", "clusters",
        "deleteCluster", "cluster", SEED, "Deleting a dedicated resource pool", seed_row=46,
        note=_NO_API),
    _op("AddClusterNodes", "POST", "/v1/{project_id}/clusters/{cluster_id}/nodes", "clusters",
        "addClusterNode", "cluster", SEED, "Adding a node to a dedicated resource pool",
        seed_row=47, note=_NO_API),
    _op("DeleteClusterNodes", "DELETE", "/v1/{project_id}/clusters/{cluster_id}/nodes", "clusters",
        "deleteClusterNode", "cluster", SEED, "Deleting a node from a dedicated resource pool",
        seed_row=48, note=_NO_API),
    # recorded by the simulator itself when a created cluster leaves "deploying"
    _op("CreateClusterResult", None, None, "clusters", "createClusterResult", "cluster", SEED,
        "Obtaining the result of creating a dedicated resource pool", seed_row=49,
        read_only=False, api_version="v1",  # that of the cluster API it reports on
        note="recorded by the simulator when a created cluster leaves "
        "deploying; the meaning is inferred from the trace name"),

    # ---- reads and unaudited writes of the old generation (served, not audited) -----------
    _op("ListDevEnvInstances", "GET", "/v1/{project_id}/demanager/instances", "devenviron", None,
        "Notebook", DOCUMENTED, "Listing development environment instances"),
    _op("ShowDevEnvInstance", "GET", "/v1/{project_id}/demanager/instances/{instance_id}",
        "devenviron", None, "Notebook", DOCUMENTED, "Querying a development environment instance"),
    _op("UpdateDevEnvInstance", "PUT", "/v1/{project_id}/demanager/instances/{instance_id}",
        "devenviron", None, "Notebook", DOCUMENTED,
        "Modifying the description of a development environment instance"),
    _op("ListTrainingJobs", "GET", "/v1/{project_id}/training-jobs", "training_jobs", None,
        "ModelArtsTrainJob", DOCUMENTED, "Listing training jobs"),
    _op("ListTrainingJobVersions", "GET", "/v1/{project_id}/training-jobs/{job_id}/versions",
        "training_jobs", None, "ModelArtsTrainJob", DOCUMENTED, "Listing training job versions"),
    _op("ShowTrainingJobVersion", "GET",
        "/v1/{project_id}/training-jobs/{job_id}/versions/{version_id}", "training_jobs", None,
        "ModelArtsTrainJob", DOCUMENTED, "Querying a training job version"),
    _op("ListTrainingResourceSpecs", "GET", "/v1/{project_id}/job/resource-specs",
        "training_jobs", None, "ModelArtsTrainJob", DOCUMENTED,
        "Listing the resource specifications of training jobs"),
    _op("ListTrainingEngines", "GET", "/v1/{project_id}/job/ai-engines", "training_jobs", None,
        "ModelArtsTrainJob", DOCUMENTED, "Listing the AI engines of training jobs"),
    _op("ListTrainingJobConfigs", "GET", "/v1/{project_id}/training-job-configs",
        "training_configs", None, "ModelArtsTrainConfig", DOCUMENTED,
        "Listing training job configurations"),
    _op("ShowTrainingJobConfig", "GET", "/v1/{project_id}/training-job-configs/{config_name}",
        "training_configs", None, "ModelArtsTrainConfig", DOCUMENTED,
        "Querying a training job configuration"),
    _op("ListVisualizationJobs", "GET", "/v1/{project_id}/visualization-jobs",
        "visualization_jobs", None, "ModelArtsTensorboardJob", DOCUMENTED,
        "Listing visualization jobs"),
    _op("ShowVisualizationJob", "GET", "/v1/{project_id}/visualization-jobs/{job_id}",
        "visualization_jobs", None, "ModelArtsTensorboardJob", DOCUMENTED,
        "Querying a visualization job"),
    _op("ListModels", "GET", "/v1/{project_id}/models", "models", None, "model", DOCUMENTED,
        "Listing models"),
    _op("ShowModel", "GET", "/v1/{project_id}/models/{model_id}", "models", None, "model",
        DOCUMENTED, "Querying a model"),
    _op("ListConversionTasks", "GET", "/v1/{project_id}/conversions", "conversions", None,
        "convert", INFERRED, "Listing model conversion tasks"),
    _op("ShowConversionTask", "GET", "/v1/{project_id}/conversions/{task_id}", "conversions",
        None, "convert", INFERRED, "Querying a model conversion task"),
    _op("ListServices", "GET", "/v1/{project_id}/services", "services", None, "service",
        DOCUMENTED, "Listing services"),
    _op("ShowService", "GET", "/v1/{project_id}/services/{service_id}", "services", None,
        "service", DOCUMENTED, "Querying a service"),
    _op("ListAuthorizations", "GET", "/v2/{project_id}/authorizations", "authorizations", None,
        "service", DOCUMENTED, "Listing authorizations"),
    _op("ListClusters", "GET", "/v1/{project_id}/clusters", "clusters", None, "cluster",
        DOCUMENTED, "Listing dedicated resource pools"),
    _op("ShowCluster", "GET", "/v1/{project_id}/clusters/{cluster_id}", "clusters", None,
        "cluster", INFERRED, "Querying a dedicated resource pool"),

    # ---- newer generation: notebooks (what huaweicloudsdkmodelarts calls) -----------------
    _op("CreateNotebook", "POST", _NB, "notebooks", "createNotebook", "Notebook", DOCUMENTED,
        "Creating a notebook instance"),
    _op("ShowNotebook", "GET", _NB + "/{id}", "notebooks", "getNotebook", "Notebook", DOCUMENTED,
        "Querying a notebook instance"),
    _op("ListNotebooks", "GET", _NB, "notebooks", "listNotebook", "Notebook", DOCUMENTED,
        "Listing notebook instances"),
    _op("ListAllNotebooks", "GET", _NB + "/all", "notebooks", "listallNotebook", "Notebook",
        DOCUMENTED, "Listing the notebook instances of every user"),
    _op("UpdateNotebook", "PUT", _NB + "/{id}", "notebooks", "updateNotebook", "Notebook",
        DOCUMENTED, "Updating a notebook instance"),
    _op("DeleteNotebook", "DELETE", _NB + "/{id}", "notebooks", "deleteNotebook", "Notebook",
        DOCUMENTED, "Deleting a notebook instance"),
    _op("StartNotebook", "POST", _NB + "/{id}/start", "notebooks", "startNotebook", "Notebook",
        DOCUMENTED, "Starting a notebook instance"),
    _op("StopNotebook", "POST", _NB + "/{id}/stop", "notebooks", "stopNotebook", "Notebook",
        DOCUMENTED, "Stopping a notebook instance"),
    _op("ShowLease", "GET", _NB + "/{id}/lease", "notebooks", None, "Notebook", DOCUMENTED,
        "Querying a notebook instance's lease"),
    _op("RenewLease", "PATCH", _NB + "/{id}/lease", "notebooks", None, "Notebook", DOCUMENTED,
        "Renewing a notebook instance's lease"),
    _op("ListFlavors", "GET", _NB + "/flavors", "notebooks", None, "Notebook", DOCUMENTED,
        "Listing notebook flavors"),

    # ---- newer generation: training jobs v2 ------------------------------------------------
    _op("CreateTrainingJobV2", "POST", _TJ, "training_v2", "CreateJobV2", "JobV2", DOCUMENTED,
        "Creating a training job"),
    _op("ShowTrainingJobDetails", "GET", _TJ + "/{training_job_id}", "training_v2", None,
        "JobV2", DOCUMENTED, "Querying a training job"),
    _op("ListTrainingJobsV2", "POST", "/v2/{project_id}/training-job-searches", "training_v2",
        None, "JobV2", DOCUMENTED, "Searching training jobs", read_only=True),
    _op("ChangeTrainingJobDescription", "PUT", _TJ + "/{training_job_id}", "training_v2",
        "UpdateJobV2", "JobV2", DOCUMENTED, "Updating a training job's description"),
    _op("DeleteTrainingJobV2", "DELETE", _TJ + "/{training_job_id}", "training_v2", "DeleteJobV2",
        "JobV2", DOCUMENTED, "Deleting a training job"),
    _op("StopTrainingJobV2", "POST", _TJ + "/{training_job_id}/actions", "training_v2",
        "StopJobV2", "JobV2", DOCUMENTED, "Stopping a training job"),
    _op("BatchDeleteTrainingJobs", "POST", _TJ + "/batch-delete", "training_v2", "DeleteJobV2",
        "JobV2", DOCUMENTED, "Deleting training jobs in a batch (one trace per job)"),
    _op("ValidateTrainingJobName", "GET", "/v2/{project_id}/training-job-names", "training_v2",
        None, "JobV2", DOCUMENTED, "Checking whether a training job name is taken"),
    _op("CreateTrainingJobTags", "POST", _TJ + "/{training_job_id}/tags/create", "training_v2",
        "CreateJobTags", "JobV2", INFERRED, "Adding tags to a training job",
        note="path follows the TMS tag convention of other ModelArts resources"),
    _op("DeleteTrainingJobTags", "DELETE", _TJ + "/{training_job_id}/tags/delete", "training_v2",
        "DeleteJobTags", "JobV2", INFERRED, "Deleting tags of a training job",
        note="path follows the TMS tag convention of other ModelArts resources"),

    # ---- newer generation: inference services v2 -------------------------------------------
    _op("CreateInferService", "POST", _SV, "services_v2", "CreateServiceV2", "serviceV2", INFERRED,
        "Creating an inference service", note=_NO_V2_NAME),
    _op("ShowInferService", "GET", _SV + "/{service_id}", "services_v2", None, "serviceV2",
        DOCUMENTED, "Querying an inference service"),
    _op("ListInferServices", "GET", _SV, "services_v2", None, "serviceV2", DOCUMENTED,
        "Listing inference services"),
    _op("UpdateInferService", "PUT", _SV + "/{service_id}", "services_v2", "UpdateServiceV2",
        "serviceV2", INFERRED, "Updating an inference service", note=_NO_V2_NAME),
    _op("StartInferService", "POST", _SV + "/{service_id}/start", "services_v2", "StartServiceV2",
        "serviceV2", INFERRED, "Starting an inference service", note=_NO_V2_NAME),
    _op("StopInferService", "POST", _SV + "/{service_id}/stop", "services_v2", "StopServiceV2",
        "serviceV2", INFERRED, "Stopping an inference service", note=_NO_V2_NAME),
    _op("BatchDeleteInferServices", "POST", _SV + "/delete", "services_v2", "DeleteServiceV2",
        "serviceV2", INFERRED, "Deleting inference services (one trace per service)",
        note=_NO_V2_NAME),

    # ---- newer generation: resource pools v2 (traces named after the API operation) -------
    _op("CreatePool", "POST", _PL, "pools", "CreatePool", "Pool", DOCUMENTED,
        "Creating a resource pool"),
    _op("ListPools", "GET", _PL, "pools", "ListPools", "Pool", DOCUMENTED,
        "Listing resource pools"),
    _op("ShowPool", "GET", _PL + "/{pool_name}", "pools", "ShowPool", "Pool", DOCUMENTED,
        "Querying a resource pool"),
    _op("PatchPool", "PATCH", _PL + "/{pool_name}", "pools", "PatchPool", "Pool", DOCUMENTED,
        "Updating a resource pool"),
    _op("DeletePool", "DELETE", _PL + "/{pool_name}", "pools", "DeletePool", "Pool", DOCUMENTED,
        "Deleting a resource pool"),
    _op("ListPoolNodes", "GET", _PL + "/{pool_name}/nodes", "pools", "ListPoolNodes", "Pool",
        DOCUMENTED, "Listing the nodes of a resource pool"),

    # ---- CTS v3 (trackers and notifications audited as service CTS) ------------------------
    _op("ListTraces", "GET", "/v3/{project_id}/traces", "cts", None, "trace", DOCUMENTED,
        "Querying traces", service_type="CTS"),
    _op("ListOperations", "GET", "/v3/{project_id}/operations", "cts", None, "trace", DOCUMENTED,
        "Querying the operations recorded for each service", service_type="CTS"),
    _op("ListQuotas", "GET", "/v3/{project_id}/quotas", "cts", None, "quota", DOCUMENTED,
        "Querying the tenant's CTS quotas", service_type="CTS"),
    _op("ListUserResources", "GET", "/v3/{project_id}/user-resources", "cts", None, "user",
        DOCUMENTED, "Querying the users who performed operations in the last 30 days",
        service_type="CTS"),
    _op("ListTraceResources", "GET", "/v3/{domain_id}/resources", "cts", None, "resource",
        DOCUMENTED, "Querying the resource types that have traces", service_type="CTS"),

    _op("CreateTracker", "POST", "/v3/{project_id}/tracker", "cts", "createTracker", "tracker",
        DOCUMENTED, "Creating a tracker", service_type="CTS", note=_CTS_AUDIT),
    _op("UpdateTracker", "PUT", "/v3/{project_id}/tracker", "cts", "updateTracker", "tracker",
        DOCUMENTED, "Modifying, disabling or enabling a tracker", service_type="CTS",
        note=_CTS_AUDIT),
    _op("ListTrackers", "GET", "/v3/{project_id}/trackers", "cts", None, "tracker", DOCUMENTED,
        "Querying trackers", service_type="CTS"),
    _op("DeleteTracker", "DELETE", "/v3/{project_id}/trackers", "cts", "deleteTracker",
        "tracker", DOCUMENTED, "Deleting trackers", service_type="CTS", note=_CTS_AUDIT),
    _op("CreateNotification", "POST", "/v3/{project_id}/notifications", "cts",
        "createNotification", "notification", DOCUMENTED, "Creating a key event notification",
        service_type="CTS", note=_CTS_AUDIT),
    _op("UpdateNotification", "PUT", "/v3/{project_id}/notifications", "cts",
        "updateNotification", "notification", DOCUMENTED,
        "Modifying, disabling or enabling a key event notification", service_type="CTS",
        note=_CTS_AUDIT + "; the page also names updateNotificationStatus (changing the "
        "status), which the one PUT cannot tell apart: updateNotification is recorded"),
    _op("ListNotifications", "GET", "/v3/{project_id}/notifications/{notification_type}", "cts",
        None, "notification", DOCUMENTED, "Querying key event notifications",
        service_type="CTS"),
    _op("DeleteNotification", "DELETE", "/v3/{project_id}/notifications", "cts",
        "deleteNotification", "notification", DOCUMENTED, "Deleting key event notifications",
        service_type="CTS", note=_CTS_AUDIT),
    _op("CheckObsBuckets", "POST", "/v3/{domain_id}/checkbucket", "cts", None, "bucket",
        DOCUMENTED, "Checking OBS buckets", service_type="CTS", read_only=True,
        note="a query sent as POST: it changes nothing, so a read-only user may call it (the "
        "simulator's choice); no trace name is published"),
    _op("BatchCreateResourceTags", "POST",
        "/v3/{project_id}/{resource_type}/{resource_id}/tags/create", "cts", None, "tag",
        DOCUMENTED, "Adding tags to a tracker", service_type="CTS", note=_NO_TAG_NAME),
    _op("BatchDeleteResourceTags", "DELETE",
        "/v3/{project_id}/{resource_type}/{resource_id}/tags/delete", "cts", None, "tag",
        DOCUMENTED, "Deleting tags of a tracker", service_type="CTS", note=_NO_TAG_NAME),

    # ---- OBS data traces: object operations on a bucket a data tracker watches -------------
    # moto serves the calls; simulator/obs/datatraces.py records them (no route of its own)
    *[_op(op_id, None, None, "obs", name, "object", INFERRED, summary, read_only=read_only,
          service_type="OBS", note=_NO_OBS_NAME)
      for op_id, name, read_only, summary in (
          ("ObsPutObject", "putObject", False, "Uploading an object"),
          ("ObsCopyObject", "copyObject", False, "Copying an object"),
          ("ObsGetObject", "getObject", True, "Downloading an object"),
          ("ObsHeadObject", "getObjectMetadata", True, "Querying an object's metadata"),
          ("ObsDeleteObject", "deleteObject", False, "Deleting an object"),
          ("ObsDeleteObjects", "deleteObjects", False, "Deleting objects in a batch"),
          ("ObsInitiateMultipartUpload", "initiateMultipartUpload", False,
           "Starting a multipart upload"),
          ("ObsUploadPart", "uploadPart", False, "Uploading a part"),
          ("ObsCompleteMultipartUpload", "completeMultipartUpload", False,
           "Completing a multipart upload"),
          ("ObsAbortMultipartUpload", "abortMultipartUpload", False,
           "Aborting a multipart upload"))],

    # ---- IAM (served, not audited) ---------------------------------------------------------
    _op("KeystoneCreateUserTokenByPassword", "POST", "/v3/auth/tokens", "iam", None, "token",
        DOCUMENTED, "Obtaining a user token by password", auth="none", service_type="IAM",
        any_role=True, note=_FOR_ONESELF),
    _op("KeystoneValidateToken", "GET", "/v3/auth/tokens", "iam", None, "token", DOCUMENTED,
        "Validating a token", service_type="IAM"),
    _op("KeystoneListProjects", "GET", "/v3/projects", "iam", None, "project", DOCUMENTED,
        "Listing projects (the SDK's project id discovery)", service_type="IAM"),
    _op("KeystoneListAuthDomains", "GET", "/v3/auth/domains", "iam", None, "domain", DOCUMENTED,
        "Listing the caller's accounts", service_type="IAM"),
    _op("CreateTemporaryAccessKeyByToken", "POST", "/v3.0/OS-CREDENTIAL/securitytokens", "iam",
        None, "credential", DOCUMENTED, "Obtaining a temporary AK/SK", auth="optional",
        service_type="IAM", any_role=True, note=_FOR_ONESELF),
)

BY_ID: dict[str, Operation] = {op.operation_id: op for op in OPERATIONS}
assert len(BY_ID) == len(OPERATIONS), "operation ids must be unique"


def by_trace_name(trace_name: str) -> list[Operation]:
    return [op for op in OPERATIONS if op.trace_name == trace_name]


def routes() -> dict[tuple[str, str], list[Operation]]:
    """(method, path) -> the rows served there, discriminated rows first."""
    table: dict[tuple[str, str], list[Operation]] = {}
    for op in OPERATIONS:
        if op.method and op.path:
            table.setdefault((op.method, op.path), []).append(op)
    for rows in table.values():
        rows.sort(key=lambda op: op.when is None)
    return table


_PARAM = re.compile(r"\{(\w+)\}")


def flask_rule(path: str) -> str:
    """/v2/{project_id}/datasets/{dataset_id} -> /v2/<project_id>/datasets/<dataset_id>"""
    return _PARAM.sub(r"<\1>", path)


TRACE_NAME = re.compile(r"^[A-Za-z][0-9A-Za-z._-]{0,63}$")


def trace_names(overrides: dict[str, str]) -> dict[str, str]:
    """operation id -> the trace name to record, after overrides keyed by operation id or by
    catalog trace name. Raises ValueError for an unknown key or a name CTS would not accept."""
    names = {op.operation_id: op.trace_name for op in OPERATIONS if op.traced}
    for key, new in overrides.items():
        if not TRACE_NAME.match(new):
            raise ValueError("trace name %r is not 1-64 of [0-9A-Za-z._-] starting with a "
                             "letter" % new)
        hits = [op_id for op_id, name in names.items()
                if op_id == key or BY_ID[op_id].trace_name == key]
        if not hits:
            raise ValueError("trace_names: %r is neither an audited operation id nor a trace "
                             "name of the catalog" % key)
        for op_id in hits:
            names[op_id] = new
    return names


def audited_operations(service_type: str = "ModelArts",
                       names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """resource_type -> the trace names recorded for it (what CTS ListOperations answers)."""
    table: dict[str, list[str]] = {}
    for op in OPERATIONS:
        if op.traced and op.service_type == service_type:
            name = (names or {}).get(op.operation_id, op.trace_name)
            listed = table.setdefault(op.resource_type, [])
            if name not in listed:
                listed.append(name)
    return table
