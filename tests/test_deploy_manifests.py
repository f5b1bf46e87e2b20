"""The Kubernetes manifests in deploy/ validate against the pinned Kubernetes version's schemas
(kubernetes-validate, offline), the KEDA ScaledObject against the schema committed beside it
(check-jsonschema), and they name the queues the settings use."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
BIN = Path(sys.executable).parent
# The oldest Kubernetes the manifests support (persistentVolumeClaimRetentionPolicy is GA in 1.32).
KUBERNETES_VERSION = "1.33.0"
CORE = sorted(DEPLOY.glob("*.yaml"))
KEDA_SCHEMA = DEPLOY / "keda" / "scaledobject.schema.json"
KEDA = sorted((DEPLOY / "keda").glob("*.yaml"))


def kubernetes_validate(*paths: Path) -> subprocess.CompletedProcess:
    command = [BIN / "kubernetes-validate", "--strict", "-k", KUBERNETES_VERSION, *paths]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def keda_validate(*paths: Path) -> subprocess.CompletedProcess:
    command = [BIN / "check-jsonschema", "--schemafile", KEDA_SCHEMA, *paths]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def default_settings(*names: str) -> dict:
    """Settings as mvsic.settings makes them from an environment without MVSIC_ variables (the
    test settings give every run queues of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MVSIC_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="mvsic.settings", DJANGO_DEBUG="true")
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {list(names)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=DEPLOY.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_core_manifests_validate_against_kubernetes_schemas():
    assert CORE, "no manifests in deploy/"
    result = kubernetes_validate(*CORE)
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {(d["kind"], d["metadata"]["name"]) for p in CORE for d in documents(p)}
    for expected in [
        ("StatefulSet", "mvsic-web"),
        ("Deployment", "mvsic-worker"),
        ("Deployment", "mvsic-beat"),
        ("ConfigMap", "mvsic-config"),
        ("Secret", "mvsic-secrets"),
    ]:
        assert expected in kinds


def test_keda_scaled_object_validates_against_the_committed_schema():
    assert KEDA
    result = keda_validate(*KEDA)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "change, validator",
    [
        (("terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: sixty"), "core"),
        (("      containers:", "      containerz:"), "core"),
        (("mode: QueueLength", "mode: queueLength"), "keda"),
        (('value: "200"', "value: 200"), "keda"),
        (("  maxReplicaCount: 8", "  maxReplicas: 8"), "keda"),
    ],
)
def test_a_broken_manifest_fails(tmp_path, change, validator):
    source = DEPLOY / "worker.yaml" if validator == "core" else KEDA[0]
    text = source.read_text()
    assert change[0] in text
    broken = tmp_path / source.name
    broken.write_text(text.replace(change[0], change[1]))
    result = (kubernetes_validate if validator == "core" else keda_validate)(broken)
    assert result.returncode != 0


def test_keda_scales_the_worker_on_the_events_queue():
    (scaled,) = documents(DEPLOY / "keda" / "worker-scaledobject.yaml")
    (worker,) = documents(DEPLOY / "worker.yaml")
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["mode"] == "QueueLength"
    assert (
        trigger["metadata"]["queueName"]
        == default_settings("MVSIC_EVENTS_QUEUE")["MVSIC_EVENTS_QUEUE"]
    )
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    # The broker KEDA watches is the one the worker uses.
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert trigger["metadata"]["hostFromEnv"] == "CELERY_BROKER_URL"
    assert {"secretRef": {"name": "mvsic-secrets"}} in container["envFrom"]
    assert "CELERY_BROKER_URL" in documents(DEPLOY / "secret.example.yaml")[0]["stringData"]
    assert "--event-batches" in container["command"]


def test_config_names_the_default_queues_and_the_spool_volume():
    (config,) = documents(DEPLOY / "config.yaml")
    defaults = default_settings("MVSIC_EVENTS_QUEUE", "MVSIC_DEFAULT_QUEUE")
    assert config["data"]["MVSIC_EVENTS_QUEUE"] == defaults["MVSIC_EVENTS_QUEUE"]
    assert config["data"]["MVSIC_DEFAULT_QUEUE"] == defaults["MVSIC_DEFAULT_QUEUE"]
    web = next(d for d in documents(DEPLOY / "web.yaml") if d["kind"] == "StatefulSet")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    # The spool is a per-pod claim that outlives the pod.
    assert mounts["spool"] == config["data"]["MVSIC_SPOOL_DIR"]
    assert [t["metadata"]["name"] for t in web["spec"]["volumeClaimTemplates"]] == ["spool"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
