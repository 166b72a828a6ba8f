"""Cluster exports around the TRL config: a SkyPilot task, a Kubernetes Job and a Slurm script."""

from __future__ import annotations

import math
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from app.recipes.catalog import Recipe, load_catalog
from app.recipes.errors import NotAvailable
from app.recipes.estimate import Estimate, estimate
from app.recipes.hardware import load_hardware
from app.recipes.params import RecipeParams
from app.recipes.yamlout import emit, scalar

# Where the Kubernetes pod finds the config files and the workspace volume.
K8S_CONFIG_DIR = "/config"
K8S_WORKSPACE = "/workspace"


class KubernetesDefaults(BaseModel):
    """Placeholders and policies of the Kubernetes Job (see clusters.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    image: str
    namespace: str
    workspace_claim: str
    hf_token_secret: str
    backoff_limit: int = Field(ge=0)
    ttl_seconds_after_finished: int = Field(ge=0)
    shm_size: str


class SlurmDefaults(BaseModel):
    """Placeholders of the sbatch script."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partition: str


class Clusters(BaseModel):
    """Everything in clusters.toml, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    trainer_packages: tuple[str, ...] = Field(min_length=1)
    gpus_per_node: PositiveInt
    cpus_per_gpu: PositiveInt
    cpus_without_gpu: PositiveInt
    time_factor: float = Field(ge=1)
    time_margin_minutes: int = Field(ge=0)
    time_floor_minutes: PositiveInt
    host_ram_base_gb: PositiveInt
    kubernetes: KubernetesDefaults
    slurm: SlurmDefaults
    gpu_names: dict[str, dict[str, str]]


@cache
def load_clusters() -> Clusters:
    """Load and validate data/clusters.toml (cached); every GPU type needs a name per scheduler."""
    path = resources.files("app.recipes").joinpath("data").joinpath("clusters.toml")
    clusters = Clusters(**tomllib.loads(path.read_text(encoding="utf-8")))
    for scheduler in ("skypilot", "slurm"):
        names = clusters.gpu_names.get(scheduler, {})
        missing = [g.type for g in load_hardware().gpus if g.type not in names]
        if missing:
            raise ValueError(f"clusters.toml: gpu_names.{scheduler} lacks {missing}")
    return clusters


@dataclass(frozen=True)
class Launch:
    """What every cluster export needs: the files, the trainer command and the resources."""

    recipe: Recipe
    params: RecipeParams
    files: Mapping[str, str]  # file name -> content: the TRL config first, then e.g. the grader
    estimate: Estimate
    gpu_type: str | None  # None: a CPU run
    gpu_count: int
    cpus: int
    minutes: int
    host_ram_gb: int

    @property
    def config_file(self) -> str:
        """The TRL config's file name."""
        return next(iter(self.files))

    def argv(self, config_path: str) -> list[str]:
        """The trainer command as an argument list; accelerate spreads it over the GPUs."""
        argv = ["trl", self.recipe.method or "sft", "--config", config_path]
        if self.gpu_count > 1:
            argv += ["--num_processes", str(self.gpu_count)]
        return argv


def plan(recipe: Recipe, params: RecipeParams, files: Mapping[str, str]) -> Launch:
    """Resources from the estimate; NotAvailable when the run needs more than one node."""
    c = load_clusters()
    e = estimate(recipe, params)
    cpu = e.gpu.type == "cpu"
    if not cpu and e.gpu.count > c.gpus_per_node:
        raise NotAvailable(
            f"{recipe.id} needs {e.gpu.count} x {e.gpu.type}, more than one node of "
            f"{c.gpus_per_node} GPUs; a multi-node launch is not generated. Pick a larger GPU "
            "(--set gpu=...), a smaller model or QLoRA, or write the multi-node launcher",
            key="format",
        )
    minutes = e.hours * 60 * c.time_factor + c.time_margin_minutes
    minutes = max(c.time_floor_minutes, math.ceil(minutes / 15) * 15)
    models_b = params.params_b + (params.teacher_params_b or 0.0)
    return Launch(
        recipe=recipe,
        params=params,
        files=files,
        estimate=e,
        gpu_type=None if cpu else e.gpu.type,
        gpu_count=0 if cpu else e.gpu.count,
        cpus=c.cpus_without_gpu if cpu else c.cpus_per_gpu * e.gpu.count,
        minutes=int(minutes),
        host_ram_gb=math.ceil(2 * models_b + c.host_ram_base_gb),
    )


def _hardware_line(launch: Launch) -> str:
    e = launch.estimate
    if launch.gpu_type is None:
        return f"Resources: CPU only, {launch.cpus} cores (a smoke test, not a real run)."
    return (
        f"Resources from the estimate: {launch.gpu_count} x {launch.gpu_type} "
        f"({e.memory_gb:g} GB needed per GPU), about {e.hours:.3g} h of training; the time "
        f"limit is {launch.minutes // 60} h {launch.minutes % 60:02d} min."
    )


def _header(launch: Launch, fmt: str, run: str) -> list[str]:
    r = launch.recipe
    return [
        f"{r.title}: recipe {r.id} (catalog {load_catalog().version}, clusters "
        f"{load_clusters().version}), {fmt} export by Adaptation Advisor.",
        f"Run: {run}",
        _hardware_line(launch),
        f"Trainer: {' '.join(load_clusters().trainer_packages)}.",
    ]


def _literal(key: str, text: str, indent: int) -> list[str]:
    """A YAML literal block scalar (`key: |`), so files and scripts stay readable."""
    pad = " " * (indent + 2)
    marker = "|2" if text[:1] in (" ", "\n") else "|"
    body = [f"{pad}{line}" if line else "" for line in text.rstrip("\n").split("\n")]
    return [f"{' ' * indent}{scalar(key)}: {marker}", *body]


def _shell(lines: list[list[str]]) -> str:
    """Shell lines from argument lists, every argument quoted."""
    return "\n".join(" ".join(shlex.quote(arg) for arg in argv) for argv in lines) + "\n"


def _local_paths(params: RecipeParams) -> list[str]:
    """Absolute local paths among the parameters (they do not travel with the workdir)."""
    values = [params.base_model, params.dataset, params.teacher_model]
    return [v for v in values if v and v.startswith(("/", "~"))]


def skypilot_task(launch: Launch) -> tuple[str, list[str]]:
    """SkyPilot task YAML: `sky launch` syncs the folder, installs the trainer, runs it."""
    c, r = load_clusters(), launch.recipe
    resources_: dict[str, Any] = {}
    if launch.gpu_type:
        accelerator = c.gpu_names["skypilot"][launch.gpu_type]
        resources_["accelerators"] = f"{accelerator}:{launch.gpu_count}"
    resources_["cpus"] = f"{launch.cpus}+"
    resources_["memory"] = f"{launch.host_ram_gb}+"
    task: dict[str, Any] = {
        "name": f"advisor-{r.id}",
        "resources": resources_,
        "workdir": ".",
    }
    mounts = {path: path for path in _local_paths(launch.params)}
    if mounts:
        task["file_mounts"] = mounts
    task["envs"] = {"HF_TOKEN": None}
    setup = _shell(
        [["set", "-euo", "pipefail"], ["python", "-m", "pip", "install", *c.trainer_packages]]
    )
    run = _shell([["set", "-euo", "pipefail"], launch.argv(launch.config_file)])
    command = f"sky launch -c advisor-{r.id} --env HF_TOKEN {r.id}.skypilot.yaml"
    text = emit(
        [(None, task)],
        header=_header(launch, "SkyPilot task", command),
        comments={
            "workdir": "Run `sky launch` in the folder holding "
            + ", ".join(launch.files)
            + " and the dataset: it is synced to the cluster.",
            "envs": "A Hugging Face token for gated models, passed with --env HF_TOKEN.",
            "file_mounts": "Absolute local paths are copied to the same path on the cluster.",
        },
    )
    text += "\n".join([*_literal("setup", setup, 0), *_literal("run", run, 0)]) + "\n"
    notes = [
        f"Save {' and '.join(launch.files)} beside this file, with the dataset at "
        f"{launch.params.dataset}, and run the command there.",
        "SkyPilot picks the cloud and region; add `infra:` under resources to pin one.",
    ]
    return text, notes


def _k8s_labels(recipe: Recipe) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "adaptation-advisor",
        "app.kubernetes.io/component": "training",
        "advisor.recipe": recipe.id,
    }


def kubernetes_job(launch: Launch) -> tuple[str, list[str]]:
    """A ConfigMap with the config files and a batch/v1 Job that runs the trainer on them."""
    k, r, e = load_clusters().kubernetes, launch.recipe, launch.estimate
    name = f"advisor-{r.id}"
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-config", "namespace": k.namespace, "labels": _k8s_labels(r)},
    }
    env: list[dict[str, Any]] = [
        {"name": "HF_HOME", "value": f"{K8S_WORKSPACE}/.cache/huggingface"},
        {
            "name": "HF_TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": k.hf_token_secret, "key": "token", "optional": True}
            },
        },
    ]
    if len(launch.files) > 1:
        # The grader module sits beside the config; TRL imports it by its dotted name.
        env.append({"name": "PYTHONPATH", "value": K8S_CONFIG_DIR})
    requests = {"cpu": str(launch.cpus), "memory": f"{launch.host_ram_gb}Gi"}
    limits: dict[str, str] = {"memory": f"{launch.host_ram_gb}Gi"}
    if launch.gpu_type:
        limits["nvidia.com/gpu"] = str(launch.gpu_count)
    container = {
        "name": "trainer",
        "image": k.image,
        "workingDir": K8S_WORKSPACE,
        "command": launch.argv(f"{K8S_CONFIG_DIR}/{launch.config_file}"),
        "env": env,
        "resources": {"requests": requests, "limits": limits},
        "volumeMounts": [
            {"name": "config", "mountPath": K8S_CONFIG_DIR, "readOnly": True},
            {"name": "workspace", "mountPath": K8S_WORKSPACE},
            {"name": "dshm", "mountPath": "/dev/shm"},
        ],
    }
    pod: dict[str, Any] = {"restartPolicy": "Never"}
    if launch.gpu_type:
        need_mib = math.ceil(e.memory_gb * 1e9 / 2**20)
        pod["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "nvidia.com/gpu.memory",
                                    "operator": "Gt",
                                    "values": [str(need_mib)],
                                }
                            ]
                        }
                    ]
                }
            }
        }
        pod["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    pod |= {
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": f"{name}-config"}},
            {"name": "workspace", "persistentVolumeClaim": {"claimName": k.workspace_claim}},
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": k.shm_size}},
        ],
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": k.namespace, "labels": _k8s_labels(r)},
        "spec": {
            "backoffLimit": k.backoff_limit,
            "ttlSecondsAfterFinished": k.ttl_seconds_after_finished,
            "activeDeadlineSeconds": launch.minutes * 60,
            "template": {"metadata": {"labels": _k8s_labels(r)}, "spec": pod},
        },
    }
    command = f"kubectl apply -f {r.id}.kubernetes.yaml"
    head = emit(
        [(None, config_map)],
        header=[
            *_header(launch, "Kubernetes", command),
            f"Fill in: the image (CUDA, PyTorch and the trainer), the namespace, and a "
            f"PersistentVolumeClaim {k.workspace_claim!r} holding the dataset.",
        ],
    )
    data = ["data:"]
    for filename, content in launch.files.items():
        data += _literal(filename, content, 2)
    body = emit(
        [(None, job)],
        comments={
            "spec": "No retries: a failed run is read, fixed and resubmitted. The deadline is "
            "the estimate with a margin; finished Jobs are kept a day for their logs.",
        },
    )
    text = head + "\n".join(data) + "\n---\n" + body
    notes = [
        f"Replace the image {k.image} with one holding CUDA, PyTorch and "
        f"{', '.join(load_clusters().trainer_packages)}.",
        f"Set the namespace (now {k.namespace!r}) and create the PersistentVolumeClaim "
        f"{k.workspace_claim!r}; copy the dataset to {launch.params.dataset} inside it. "
        f"Outputs land in {launch.params.output_dir} on the same volume.",
    ]
    if launch.gpu_type:
        notes.append(
            "The node affinity needs GPU feature discovery's nvidia.com/gpu.memory label "
            "(installed with NVIDIA's GPU operator); without it, replace it by your cluster's "
            "GPU node selector."
        )
    notes.append(
        f"For gated models: kubectl create secret generic {k.hf_token_secret} "
        "--from-literal=token=..."
    )
    return text, notes


def slurm_script(launch: Launch) -> tuple[str, list[str]]:
    """An sbatch script: one node, the estimate's GPUs and time, the trainer under srun."""
    c, r, p = load_clusters(), launch.recipe, launch.params
    hours, minutes = divmod(launch.minutes, 60)
    days, hours = divmod(hours, 24)
    limit = f"{days}-{hours:02d}:{minutes:02d}:00" if days else f"{hours:02d}:{minutes:02d}:00"
    directives = [
        f"--job-name=advisor-{r.id}",
        f"--partition={c.slurm.partition}",
        "--nodes=1",
        "--ntasks=1",
    ]
    if launch.gpu_type:
        gres = c.gpu_names["slurm"][launch.gpu_type]
        directives.append(f"--gres=gpu:{gres}:{launch.gpu_count}")
    directives += [
        f"--cpus-per-task={launch.cpus}",
        f"--mem={launch.host_ram_gb}G",
        f"--time={limit}",
        f"--output=advisor-{r.id}-%j.out",
    ]
    command = f"sbatch {r.id}.slurm.sh"
    lines = ["#!/bin/bash"]
    lines += [f"# {line}" for line in _header(launch, "Slurm", command)]
    lines += [
        f"# Fill in: the partition (now {c.slurm.partition!r}) and the GRES type your site uses "
        '(sinfo -o "%P %G").',
        *(f"#SBATCH {d}" for d in directives),
        "set -euo pipefail",
        "",
        "# Submit from the folder holding these files; Slurm passes your environment on.",
    ]
    needed = [*launch.files, p.dataset]
    lines.append(f"for file in {' '.join(shlex.quote(f) for f in needed)}; do")
    lines.append(
        '  [[ -f "$file" ]] || { echo "missing $file (run sbatch from its folder)" >&2; exit 1; }'
    )
    lines.append("done")
    pins = " ".join(c.trainer_packages)
    lines.append(
        "command -v trl >/dev/null || { echo "
        + shlex.quote(f"trl not found: activate an environment with {pins} before sbatch")
        + " >&2; exit 1; }"
    )
    if len(launch.files) > 1:
        lines.append('export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"')
    lines.append(f"mkdir -p {shlex.quote(p.output_dir)}")
    lines.append(" ".join(shlex.quote(a) for a in ["srun", *launch.argv(launch.config_file)]))
    notes = [
        f"Set the partition (now {c.slurm.partition!r}); GRES type names are chosen by each "
        'site: check them with sinfo -o "%P %G".',
        f"Activate an environment with {pins} before sbatch, and submit from the folder "
        f"holding {', '.join(launch.files)} and {p.dataset}.",
    ]
    return "\n".join(lines) + "\n", notes


load_clusters()  # fail at import on a broken table
