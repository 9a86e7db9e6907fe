#!/usr/bin/env python3
"""A minimal dynamic volume provisioner for the single-node cluster (StorageClass `standard`):
a PersistentVolume on a host directory for each pending claim, and removal of the directory and
the volume once its claim is deleted. Runs on the host beside the kubelet.

usage: provisioner.py KUBECTL KUBECONFIG VOLUMES_DIR
"""

import json
import os
import shutil
import subprocess
import sys
import time

PROVISIONER = "kringen.io/local-path"
CLASS = "standard"


def kubectl(kubectl_bin, kubeconfig, *args, data=None):
    return subprocess.run([kubectl_bin, "--kubeconfig", kubeconfig, *args], input=data, capture_output=True,
                          text=True, timeout=60)


def provision(kubectl_bin, kubeconfig, root, claim):
    meta, spec = claim["metadata"], claim["spec"]
    path = os.path.join(root, f"{meta['namespace']}-{meta['name']}-{meta['uid'][:8]}")
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o777)  # pods run as various non-root users; hostPath ignores fsGroup
    volume = {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{meta['uid']}", "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": spec.get("accessModes", ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": CLASS,
            "hostPath": {"path": path, "type": "Directory"},
            "claimRef": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
        },
    }
    result = kubectl(kubectl_bin, kubeconfig, "create", "-f", "-", data=json.dumps(volume))
    print(f"provisioned {path} for {meta['namespace']}/{meta['name']}: {result.returncode}", flush=True)


def release(kubectl_bin, kubeconfig, root, volume):
    path = volume["spec"].get("hostPath", {}).get("path", "")
    if path.startswith(root + os.sep):
        shutil.rmtree(path, ignore_errors=True)
    kubectl(kubectl_bin, kubeconfig, "delete", "pv", volume["metadata"]["name"], "--wait=false")
    print(f"deleted {volume['metadata']['name']} and {path}", flush=True)


def main(kubectl_bin, kubeconfig, root):
    os.makedirs(root, exist_ok=True)
    while True:
        claims = kubectl(kubectl_bin, kubeconfig, "get", "pvc", "-A", "-o", "json")
        volumes = kubectl(kubectl_bin, kubeconfig, "get", "pv", "-o", "json")
        if claims.returncode == 0 and volumes.returncode == 0:
            bound_claims = {(v["spec"].get("claimRef") or {}).get("uid") for v in json.loads(volumes.stdout)["items"]}
            for claim in json.loads(claims.stdout)["items"]:
                wanted = claim["spec"].get("storageClassName") == CLASS
                if wanted and claim["status"].get("phase") == "Pending" and claim["metadata"]["uid"] not in bound_claims:
                    provision(kubectl_bin, kubeconfig, root, claim)
            for volume in json.loads(volumes.stdout)["items"]:
                ours = volume["metadata"].get("annotations", {}).get("pv.kubernetes.io/provisioned-by") == PROVISIONER
                if ours and volume["status"].get("phase") in ("Released", "Failed"):
                    release(kubectl_bin, kubeconfig, root, volume)
        time.sleep(2)


if __name__ == "__main__":
    main(*sys.argv[1:4])
