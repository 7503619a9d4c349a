#!/usr/bin/env python3
"""Checks that deploy/'s manifests parse and carry what deepsweep relies on.

Kubernetes (deploy/k8s): the kustomization lists every manifest; the coordinator is a
single-replica StatefulSet with a ReadWriteOnce claim mounted where its --db lives, behind a
Service whose selector and port reach it; workers are a Deployment that points --server at
that Service; each reads the narrowest credential it needs from its own generated Secret (the
coordinator the credentials file, workers a worker token), readable by their non-root user.
The image (deploy/Dockerfile) runs as that user, portable, with a health check.
Compose (deploy/docker-compose.yml): the coordinator keeps its database on a named volume and
is published on 127.0.0.1 by default; workers can scale (no fixed name, no host port); every
service restarts and reads its own credential from its own env file.

Then it plants one mistake at a time in a copy and requires each to be reported, so the
checker itself cannot silently pass everything.

Usage: manifests_test.py DEPLOY_DIR
"""

import copy
import os
import re
import sys

import yaml

COORDINATOR_PORT = 50051
# The Secret each pod reads its credential from, with the key its flag names: the narrowest
# role each needs (the coordinator: the credentials file of digests; workers: a worker token).
COORDINATOR_SECRET = ("deepsweep-credentials", "--credentials", "credentials")
WORKER_SECRET = ("deepsweep-worker-token", "--token-file", "token")
IMAGE_NAME = "deepsweep"
NON_ROOT_UID = 10001


def load_k8s(k8s_dir):
    """Returns (kustomization, {file: [documents]}) for the kustomization in k8s_dir."""
    with open(os.path.join(k8s_dir, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    manifests = {}
    for name in kustomization.get("resources", []):
        path = os.path.join(k8s_dir, name)
        if os.path.isfile(path):
            with open(path) as f:
                manifests[name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return kustomization, manifests


def flag_value(args, flag):
    """The value after `flag` in an argument list, or None."""
    for i, arg in enumerate(args[:-1]):
        if arg == flag:
            return args[i + 1]
    return None


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_pod(errors, what, pod_spec, kustomization, secret_spec):
    """Checks one workload's pod: non-root, image, its credential's Secret mounted and readable.

    Returns (container, {mount path: volume}) of its first container, or (None, {})."""
    containers = pod_spec.get("containers") or []
    if len(containers) != 1:
        errors.append(f"{what}: expected exactly one container, found {len(containers)}")
        return None, {}
    container = containers[0]
    security = pod_spec.get("securityContext") or {}
    if security.get("runAsNonRoot") is not True or security.get("runAsUser") in (None, 0):
        errors.append(f"{what}: pod must set runAsNonRoot: true and a non-zero runAsUser")
    image_names = {i.get("name") for i in kustomization.get("images") or []}
    if container.get("image", "").split(":")[0] not in image_names:
        errors.append(
            f"{what}: image '{container.get('image')}' is not one the kustomization's "
            f"images: section can retag ({sorted(image_names)})")
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    mounts = {}
    for mount in container.get("volumeMounts") or []:
        mounts[mount.get("mountPath")] = volumes.get(mount.get("name"), {"name": mount.get("name")})
    args = container.get("args") or []
    secret_name, flag, key = secret_spec
    secret_file = flag_value(args, flag)
    secret_dir = os.path.dirname(secret_file) if secret_file else None
    secret_volume = mounts.get(secret_dir, {})
    secret = secret_volume.get("secret") or {}
    generators = {g.get("name"): g for g in kustomization.get("secretGenerator") or []}
    keys = [f.split("=")[0] for f in (generators.get(secret_name) or {}).get("files") or []]
    if secret.get("secretName") != secret_name:
        errors.append(f"{what}: {flag} {secret_file} is not in a mount of Secret '{secret_name}'")
    elif os.path.basename(secret_file) != key or key not in keys:
        errors.append(f"{what}: {flag} {secret_file} is not the key '{key}' the kustomization's "
                      f"secretGenerator '{secret_name}' makes ({keys})")
    else:
        mode = secret.get("defaultMode", 0o644)
        readable = mode & 0o004 or (security.get("fsGroup") is not None and mode & 0o040)
        if not readable:
            errors.append(
                f"{what}: Secret mode {oct(mode)} is not readable by user "
                f"{security.get('runAsUser')} (needs fsGroup and a group-readable mode)")
    return container, mounts


def check_k8s(kustomization, manifests, k8s_dir):
    errors = []
    listed = set(kustomization.get("resources", []))
    present = {f for f in os.listdir(k8s_dir)
               if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml"}
    for name in sorted(listed - present):
        errors.append(f"kustomization lists '{name}', which does not exist")
    for name in sorted(present - listed):
        errors.append(f"'{name}' is not listed in the kustomization's resources")
    if not kustomization.get("namespace"):
        errors.append("kustomization: no namespace")
    generators = {g.get("name"): g for g in kustomization.get("secretGenerator") or []}
    for secret_name, _, key in (COORDINATOR_SECRET, WORKER_SECRET):
        files = [f.split("=")[0] for f in (generators.get(secret_name) or {}).get("files") or []]
        if key not in files:
            errors.append(f"kustomization: no secretGenerator '{secret_name}' with a '{key}' key")
    for name, generator in generators.items():
        for entry in generator.get("files") or []:
            path = entry.split("=")[-1]
            if not path.startswith("secrets/"):
                errors.append(f"secretGenerator '{name}': {path} is not under secrets/, which "
                              "git ignores and deploy/make-credentials.sh writes")

    by_kind = {}
    for name, documents in manifests.items():
        for doc in documents:
            for field in ("apiVersion", "kind"):
                if not doc.get(field):
                    errors.append(f"{name}: a document has no {field}")
            if not (doc.get("metadata") or {}).get("name"):
                errors.append(f"{name}: a {doc.get('kind')} has no metadata.name")
            by_kind.setdefault(doc.get("kind"), []).append(doc)

    statefulsets = by_kind.get("StatefulSet", [])
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])
                if (s.get("metadata") or {}).get("name")}
    if len(statefulsets) != 1:
        errors.append(f"expected one StatefulSet (the coordinator), found {len(statefulsets)}")
        return errors
    coordinator = statefulsets[0]
    spec = coordinator.get("spec") or {}
    if spec.get("replicas") != 1:
        errors.append(f"coordinator StatefulSet: replicas must be 1 (one SQLite writer), "
                      f"is {spec.get('replicas')}")
    template = spec.get("template") or {}
    pod_labels = (template.get("metadata") or {}).get("labels") or {}
    if not labels_match((spec.get("selector") or {}).get("matchLabels"), pod_labels):
        errors.append("coordinator StatefulSet: selector does not match its pod labels")
    container, mounts = check_pod(errors, "coordinator", template.get("spec") or {},
                                  kustomization, COORDINATOR_SECRET)
    claims = {(c.get("metadata") or {}).get("name"): c
              for c in spec.get("volumeClaimTemplates") or []}
    for name, claim in claims.items():
        claim_spec = claim.get("spec") or {}
        if "ReadWriteOnce" not in (claim_spec.get("accessModes") or []):
            errors.append(f"coordinator claim '{name}': accessModes must include ReadWriteOnce")
        if not ((claim_spec.get("resources") or {}).get("requests") or {}).get("storage"):
            errors.append(f"coordinator claim '{name}': no storage request")
    if container is not None:
        args = container.get("args") or []
        if not (container.get("readinessProbe") and container.get("livenessProbe")):
            errors.append("coordinator: needs a readinessProbe and a livenessProbe")
        for flag in ("--address", "--db", "--credentials"):
            if flag_value(args, flag) is None:
                errors.append(f"coordinator: args lack {flag}")
        db = flag_value(args, "--db")
        db_volume = mounts.get(os.path.dirname(db)) if db else None
        if not db_volume or db_volume.get("name") not in claims:
            errors.append(f"coordinator: --db {db} is not on a volumeClaimTemplate's mount")
    service = services.get(spec.get("serviceName"))
    if service is None:
        errors.append(f"coordinator StatefulSet: serviceName '{spec.get('serviceName')}' "
                      "names no Service")
    else:
        if not labels_match((service.get("spec") or {}).get("selector"), pod_labels):
            errors.append("coordinator Service: selector does not select the coordinator pod")
        ports = [p.get("port") for p in (service.get("spec") or {}).get("ports") or []]
        if COORDINATOR_PORT not in ports:
            errors.append(f"coordinator Service: no port {COORDINATOR_PORT}")

    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        errors.append(f"expected one Deployment (the workers), found {len(deployments)}")
        return errors
    workers = deployments[0]
    worker_spec = workers.get("spec") or {}
    worker_template = worker_spec.get("template") or {}
    worker_labels = (worker_template.get("metadata") or {}).get("labels") or {}
    if not labels_match((worker_spec.get("selector") or {}).get("matchLabels"), worker_labels):
        errors.append("worker Deployment: selector does not match its pod labels")
    if labels_match(worker_labels, pod_labels) or labels_match(pod_labels, worker_labels):
        errors.append("worker and coordinator pods carry the same labels: the Service "
                      "would send RPCs to workers")
    worker, _ = check_pod(errors, "worker", worker_template.get("spec") or {}, kustomization,
                          WORKER_SECRET)
    if worker is not None:
        server = flag_value(worker.get("args") or [], "--server")
        expected = f"{spec.get('serviceName')}:{COORDINATOR_PORT}"
        if server != expected:
            errors.append(f"worker: --server is {server}, expected the Service at {expected}")
    for kind in ("PersistentVolumeClaim",):
        for doc in by_kind.get(kind, []):
            errors.append(f"a standalone {kind} '{doc['metadata'].get('name')}': the "
                          "coordinator's claim belongs in its volumeClaimTemplates")
    return errors


def check_compose(compose):
    errors = []
    services = compose.get("services") or {}
    for name in ("coordinator", "worker"):
        if name not in services:
            errors.append(f"compose: no '{name}' service")
    if errors:
        return errors
    coordinator, worker = services["coordinator"], services["worker"]
    named_volumes = set((compose.get("volumes") or {}).keys())
    db = flag_value(coordinator.get("command") or [], "--db")
    data_dir = os.path.dirname(db) if db else None
    on_volume = any(isinstance(v, str) and v.split(":")[0] in named_volumes
                    and v.split(":")[1] == data_dir for v in coordinator.get("volumes") or [])
    if not on_volume:
        errors.append(f"compose coordinator: --db {db} is not on a named volume")
    ports = coordinator.get("ports") or []
    # "${VAR:-127.0.0.1:50051}:50051" or "127.0.0.1:50051:50051": published on loopback.
    if not ports or not all(re.match(r"^(\$\{[A-Z_]+:-)?127\.0\.0\.1:", str(p)) for p in ports):
        errors.append(f"compose coordinator: ports {ports} are not on 127.0.0.1 by default")
    if worker.get("ports") or worker.get("container_name"):
        errors.append("compose worker: ports or container_name would stop --scale worker=N")
    if flag_value(worker.get("command") or [], "--server") != f"coordinator:{COORDINATOR_PORT}":
        errors.append("compose worker: --server must be coordinator:50051")
    for name, service in services.items():
        if name in ("coordinator", "worker"):
            if service.get("restart") not in ("always", "unless-stopped", "on-failure"):
                errors.append(f"compose {name}: no restart policy")
        if not service.get("env_file"):
            errors.append(f"compose {name}: the token must come from an env_file")
    # The narrowest credential per service: each reads its own env file only.
    for name, env in (("coordinator", "coordinator.env"), ("worker", "worker.env"),
                      ("cli", "cli.env")):
        env_file = (services.get(name) or {}).get("env_file")
        if not isinstance(env_file, str) or os.path.basename(env_file) != env:
            errors.append(f"compose {name}: env_file must be the {env} that "
                          f"deploy/make-credentials.sh writes, is {env_file}")
    if flag_value(coordinator.get("command") or [], "--credentials") is None:
        errors.append("compose coordinator: no --credentials file")
    if flag_value(coordinator.get("command") or [], "--token-file") is not None:
        errors.append("compose coordinator: --token-file would make a shared admin token")
    if not (worker.get("healthcheck") or {}).get("disable"):
        errors.append("compose worker: serves no port, so the image's health check must be "
                      "disabled")
    return errors


def check_dockerfile(dockerfile):
    """The image runs as the uid/gid the manifests assume, not as root, with a health check."""
    errors = []
    uid = re.search(r"useradd\b[^\n]*--uid (\d+)", dockerfile)
    gid = re.search(r"groupadd\b[^\n]*--gid (\d+)", dockerfile)
    if not uid or int(uid.group(1)) != NON_ROOT_UID or not gid or int(gid.group(1)) != NON_ROOT_UID:
        errors.append(f"Dockerfile: the user must be created with uid and gid {NON_ROOT_UID}, "
                      "which the Kubernetes securityContext names")
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    if not users or users[-1] in ("root", "0"):
        errors.append("Dockerfile: the final stage must switch to a non-root USER")
    if not re.search(r"^HEALTHCHECK\b.*\n?.*deepsweep.*health", dockerfile, re.MULTILINE):
        errors.append("Dockerfile: no HEALTHCHECK through 'deepsweep health'")
    if "-DDEEPSWEEP_NATIVE=OFF" not in dockerfile:
        errors.append("Dockerfile: the build must be portable (-DDEEPSWEEP_NATIVE=OFF)")
    return errors


def mutations():
    """(description, function that plants one mistake in (kustomization, manifests, compose))."""
    def doc(manifests, kind):
        return next(d for docs in manifests.values() for d in docs if d.get("kind") == kind)

    def pod(manifests, kind):
        return doc(manifests, kind)["spec"]["template"]["spec"]

    def set_arg(container, flag, value):
        args = container["args"]
        args[args.index(flag) + 1] = value

    return [
        ("two coordinators", lambda k, m, c: doc(m, "StatefulSet")["spec"].update(replicas=2)),
        ("no claim for the db", lambda k, m, c: doc(m, "StatefulSet")["spec"].update(
            volumeClaimTemplates=[])),
        ("db off the volume", lambda k, m, c: set_arg(
            pod(m, "StatefulSet")["containers"][0], "--db", "/tmp/deepsweep.db")),
        ("service selects nothing", lambda k, m, c: doc(m, "Service")["spec"].update(
            selector={"app": "nothing"})),
        ("worker to a wrong host", lambda k, m, c: set_arg(
            pod(m, "Deployment")["containers"][0], "--server", "localhost:50051")),
        ("secret unreadable", lambda k, m, c: [v["secret"].update(defaultMode=0o400)
                                               for v in pod(m, "Deployment")["volumes"]
                                               if "secret" in v]),
        ("worker as root", lambda k, m, c: pod(m, "Deployment")["securityContext"].update(
            runAsUser=0)),
        ("unlisted manifest", lambda k, m, c: (k["resources"].remove("worker.yaml"),
                                               m.pop("worker.yaml"))),
        ("no token secret", lambda k, m, c: k.update(secretGenerator=[])),
        ("worker with the credentials file", lambda k, m, c: [
            v["secret"].update(secretName="deepsweep-credentials")
            for v in pod(m, "Deployment")["volumes"] if "secret" in v]),
        ("compose worker with the cli's token", lambda k, m, c: c["services"]["worker"].update(
            env_file="secrets/cli.env")),
        ("compose shared admin token", lambda k, m, c: c["services"]["coordinator"].update(
            command=["deepsweep-server", "--db", "/data/deepsweep.db", "--token-file", "/t"])),
        ("compose port on all interfaces", lambda k, m, c: c["services"]["coordinator"].update(
            ports=["50051:50051"])),
        ("compose worker named", lambda k, m, c: c["services"]["worker"].update(
            container_name="worker")),
        ("compose db not on volume", lambda k, m, c: c["services"]["coordinator"].update(
            volumes=[])),
    ]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    deploy_dir = sys.argv[1]
    k8s_dir = os.path.join(deploy_dir, "k8s")
    kustomization, manifests = load_k8s(k8s_dir)
    with open(os.path.join(deploy_dir, "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)

    with open(os.path.join(deploy_dir, "Dockerfile")) as f:
        dockerfile = f.read()
    errors = (check_k8s(kustomization, manifests, k8s_dir) + check_compose(compose) +
              check_dockerfile(dockerfile))
    for error in errors:
        print(f"FAIL {error}")

    undetected = []
    for description, plant in mutations():
        k, m, c = copy.deepcopy(kustomization), copy.deepcopy(manifests), copy.deepcopy(compose)
        plant(k, m, c)
        if not (check_k8s(k, m, k8s_dir) + check_compose(c)):
            undetected.append(description)
    for description, planted in (("image as root", dockerfile + "USER root\n"),
                                 ("native build", dockerfile.replace("NATIVE=OFF", "NATIVE=ON"))):
        if not check_dockerfile(planted):
            undetected.append(description)
    for description in undetected:
        print(f"FAIL the checker missed a planted mistake: {description}")

    documents = sum(len(d) for d in manifests.values())
    planted = len(mutations()) + 2
    print(f"manifests: {documents} Kubernetes documents, {len(compose['services'])} compose "
          f"services and the Dockerfile checked; {planted - len(undetected)} of {planted} "
          "planted mistakes caught")
    sys.exit(1 if errors or undetected else 0)


if __name__ == "__main__":
    main()
