"""The deployment recipes, checked without a cluster or a container engine:
the Kubernetes manifests in deploy/k8s and the Containerfile.

Every document is validated (strictly: unknown fields are errors) against
the Kubernetes OpenAPI schemas that the `kubernetes-validate` package carries
offline, then the fleet contract is checked on top: probes on /ready and
/health, a non-root pod, the shared store mounted read-only by the serving
pods and written only by the loader Job, and HEARTH_* settings that the
`hearth` binary actually knows.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# The schema version the manifests are written for.
KUBERNETES_VERSION = "1.37.0"


def documents() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((path.name, doc))
    return out


def by_kind(kind: str) -> list[dict]:
    return [d for _, d in documents() if d["kind"] == kind]


def test_there_are_manifests_for_every_part():
    kinds = sorted(d["kind"] for _, d in documents())
    assert kinds == ["ConfigMap", "Deployment", "Job", "PersistentVolumeClaim", "Service"]


@pytest.mark.parametrize("name,doc", documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_manifest_matches_the_kubernetes_schema(name, doc):
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{name}: {e.message} at {'.'.join(map(str, e.path))}")


def test_a_broken_manifest_is_caught():
    (deployment,) = by_kind("Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    probe = broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["port"] = {"not": "a port"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_deployment_follows_the_fleet_contract():
    (deployment,) = by_kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
    # Draining must fit in the grace period.
    (config,) = by_kind("ConfigMap")
    shutdown = int(config["data"]["HEARTH_SHUTDOWN_TIMEOUT"].rstrip("s"))
    assert pod["terminationGracePeriodSeconds"] > shutdown
    # The store is the shared claim, read-only here; only the Job writes it.
    (pvc,) = by_kind("PersistentVolumeClaim")
    claim = pvc["metadata"]["name"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    store = next(v for v in volumes.values() if "persistentVolumeClaim" in v)
    assert store["persistentVolumeClaim"] == {"claimName": claim, "readOnly": True}
    assert config["data"]["HEARTH_READ_ONLY"] == "1"
    (job,) = by_kind("Job")
    job_volumes = job["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("persistentVolumeClaim", {}).get("claimName") == claim for v in job_volumes)
    # The Service reaches the pods.
    (service,) = by_kind("Service")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def hearth_bin() -> Path:
    path = Path(os.environ.get("HEARTH_BIN", "target/debug/hearth"))
    return path if path.is_absolute() else ROOT / path


def test_configmap_sets_only_settings_hearth_knows():
    binary = hearth_bin()
    if not binary.is_file():
        pytest.skip(f"{binary} not built")
    help_text = subprocess.run(
        [binary, "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    known = set(re.findall(r"\b(HEARTH_[A-Z_]+)\b", help_text))
    (config,) = by_kind("ConfigMap")
    unknown = set(config["data"]) - known
    assert not unknown, f"not settings of `hearth serve`: {unknown}"


def test_containerfile_runs_unprivileged_with_keys_required():
    text = (ROOT / "Containerfile").read_text()
    instructions = [l.split()[0] for l in text.splitlines() if l and not l[0].isspace() and not l.startswith("#")]
    assert instructions.count("FROM") == 2, "multi-stage: builder and runtime"
    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert user and not user[-1].startswith(("0", "root")), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*\n?.*http://127\.0\.0\.1:11434/health", text, re.M)
    assert "HEARTH_HOST=0.0.0.0:11434" in text
    # Listening on all interfaces must keep requiring API keys.
    assert "insecure-no-auth" not in text
    # The build context leaves out build outputs and models.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "target" in ignored and "*.gguf" in ignored
