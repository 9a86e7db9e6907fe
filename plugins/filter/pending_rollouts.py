# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter plugin: the rollouts an apply started and that have not finished yet."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pending_rollouts
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: The rollouts a kubernetes.core.k8s apply left unfinished
description:
  - Reads the objects a C(kubernetes.core.k8s) apply returned (they carry the status the API server had
    at the apply) and lists the Deployments, StatefulSets and DaemonSets not yet rolled out and the Jobs
    not yet complete, with the readiness rules of C(kubernetes.core)'s own waiter.
  - Adds them to O(_input), an earlier list, replacing any entry for the same object, so that
    one wait at the end covers several applies. Objects that need no wait are dropped.
  - An object that is already rolled out (nothing changed, or the rollout finished earlier) needs no
    wait, so a re-run with nothing to change waits for nothing and calls no API.
options:
  _input:
    description: The rollouts still pending from earlier applies (each a dict with api_version, kind, namespace, name, timeout).
    type: list
    elements: dict
    required: true
  applied:
    description: The registered result of a C(kubernetes.core.k8s) task (one object or several).
    type: dict
    required: true
  timeout:
    description: Seconds to allow each new pending rollout.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Remember what the apply started
  ansible.builtin.set_fact:
    rollouts: "{{ rollouts | default([]) | kringen.mcp_server.pending_rollouts(applied_result, 600) }}"
"""

RETURN = r"""
_value:
  description: The pending rollouts, each a dict with C(api_version), C(kind), C(namespace), C(name) and C(timeout).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


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
        raise AnsibleFilterError("pending_rollouts: applied must be a registered kubernetes.core.k8s result, got %r"
                                 % type(applied).__name__)
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


class FilterModule:
    def filters(self):
        return {"pending_rollouts": pending_rollouts}
