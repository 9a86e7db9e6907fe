# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which rollouts an apply left unfinished: the pending_rollouts filter's and k8s_apply's rule."""

from __future__ import annotations


def _deployment_done(spec, status, generation):
    return (spec.get("replicas", 1) == status.get("replicas", 0)
            and status.get("availableReplicas", 0) == status.get("replicas", 0)
            and status.get("observedGeneration") == generation
            and not status.get("unavailableReplicas"))


def _statefulset_done(spec, status, generation):
    replicas = spec.get("replicas", 1)
    if status.get("observedGeneration") != generation or status.get("replicas", 0) != replicas:
        return False
    if spec.get("updateStrategy", {}).get("type", "RollingUpdate") == "OnDelete":
        return True
    return (status.get("updateRevision") == status.get("currentRevision")
            and status.get("updatedReplicas", 0) == replicas
            and status.get("readyReplicas", 0) == replicas)


def _daemonset_done(spec, status, generation):
    desired = status.get("desiredNumberScheduled")
    return (desired is not None
            and status.get("updatedNumberScheduled", 0) == desired
            and status.get("numberReady") == desired
            and status.get("observedGeneration") == generation
            and not status.get("numberUnavailable"))


def _job_done(spec, status, generation):
    return any(c.get("type") == "Complete" and c.get("status") == "True" for c in status.get("conditions", []))


DONE = {"Deployment": _deployment_done, "StatefulSet": _statefulset_done,
        "DaemonSet": _daemonset_done, "Job": _job_done}


def applied_objects(applied):
    """The objects in a registered kubernetes.core.k8s result, for one definition or several."""
    if not isinstance(applied, dict):
        raise TypeError("applied must be a registered kubernetes.core.k8s result, got %r" % type(applied).__name__)
    result = applied.get("result") or {}
    if "results" in result:
        return [item.get("result") or {} for item in result["results"]]
    return [result] if result else []


def pending_rollouts(pending, applied, timeout=300):
    objects = [obj for obj in applied_objects(applied) if obj.get("kind") in DONE]
    keys = {(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]) for obj in objects}
    kept = [p for p in pending or [] if (p["kind"], p["namespace"], p["name"]) not in keys]
    for obj in objects:
        meta = obj["metadata"]
        if not DONE[obj["kind"]](obj.get("spec") or {}, obj.get("status") or {}, meta.get("generation")):
            kept.append({"api_version": obj["apiVersion"], "kind": obj["kind"], "namespace": meta.get("namespace"),
                         "name": meta["name"], "timeout": int(timeout)})
    return kept
