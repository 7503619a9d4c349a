#!/usr/bin/env python3
"""Checks that deploy/'s manifests parse and carry what deepsweep relies on.

Kubernetes (deploy/k8s): the kustomization lists every manifest; the coordinator is a
single-replica StatefulSet with a ReadWriteOnce claim mounted where its --db lives, behind a
Service whose selector and port reach it; workers are a Deployment that points --server at
that Service; each reads the narrowest credential it needs from its own generated Secret (the
coordinator the credentials file, workers a worker token), readable by their non-root user.
Every pod meets the "restricted" Pod Security Standard (non-root, no privilege escalation, all
capabilities dropped, seccomp RuntimeDefault, no host namespaces or paths) and the namespace
enforces it; the coordinator serves TLS from a Secret (the others get the CA from another),
has native gRPC startup/readiness/liveness probes on its plaintext health port with a startup
budget long enough for a migration, a PodDisruptionBudget, and a NetworkPolicy that lets only
the worker and CLI pods reach its gRPC port. A CLI pod holds the submitter's token.
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
CLI_TOKEN_SECRET = "deepsweep-cli-token"
TLS_SECRET = "deepsweep-tls"
CA_SECRET = "deepsweep-ca"
# A startup probe must allow at least this long (a schema migration of a large database).
MIN_STARTUP_SECONDS = 300
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


def check_restricted(errors, what, pod_spec, container):
    """The "restricted" Pod Security Standard (kubernetes.io/docs/concepts/security/
    pod-security-standards): what the namespace's enforce label makes the API server demand."""
    pod_security = pod_spec.get("securityContext") or {}
    security = container.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            errors.append(f"{what}: {field} is not allowed (restricted)")
    for volume in pod_spec.get("volumes") or []:
        if "hostPath" in volume:
            errors.append(f"{what}: hostPath volume '{volume.get('name')}' (restricted)")
    if security.get("privileged"):
        errors.append(f"{what}: privileged container (restricted)")
    if security.get("allowPrivilegeEscalation") is not False:
        errors.append(f"{what}: container must set allowPrivilegeEscalation: false (restricted)")
    capabilities = security.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        errors.append(f"{what}: container must drop ALL capabilities (restricted)")
    if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
        errors.append(f"{what}: adds capabilities {capabilities.get('add')} (restricted)")
    seccomp = (security.get("seccompProfile") or pod_security.get("seccompProfile") or {})
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
        errors.append(f"{what}: seccompProfile must be RuntimeDefault (restricted), is "
                      f"{seccomp.get('type')}")
    if security.get("runAsNonRoot") is False or security.get("runAsUser") == 0:
        errors.append(f"{what}: the container overrides runAsNonRoot (restricted)")
    if not security.get("readOnlyRootFilesystem"):
        errors.append(f"{what}: readOnlyRootFilesystem: true expected")


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
    check_restricted(errors, what, pod_spec, container)
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


def check_flag_from_secret(errors, what, args, mounts, kustomization, flag, secret_name, key):
    """`flag`'s file is key `key` of Secret `secret_name`, mounted, and generated."""
    path = flag_value(args, flag)
    if path is None:
        errors.append(f"{what}: args lack {flag}")
        return
    secret = (mounts.get(os.path.dirname(path)) or {}).get("secret") or {}
    generators = {g.get("name"): g for g in kustomization.get("secretGenerator") or []}
    keys = [f.split("=")[0] for f in (generators.get(secret_name) or {}).get("files") or []]
    if secret.get("secretName") != secret_name or os.path.basename(path) != key or key not in keys:
        errors.append(f"{what}: {flag} {path} is not key '{key}' of a mounted Secret "
                      f"'{secret_name}' the kustomization generates")


def grpc_probe_port(probe):
    """The port of a native gRPC probe, or None for any other kind."""
    grpc = (probe or {}).get("grpc")
    return grpc.get("port") if isinstance(grpc, dict) else None


def check_coordinator_probes(errors, container):
    """Native gRPC probes on the port --health-address serves, a startup probe with a budget
    long enough for a migration."""
    args = container.get("args") or []
    health = flag_value(args, "--health-address")
    health_port = int(health.rsplit(":", 1)[1]) if health and ":" in health else None
    container_ports = {p.get("containerPort") for p in container.get("ports") or []}
    if health_port is None or health_port not in container_ports:
        errors.append(f"coordinator: --health-address {health} is not a declared containerPort "
                      "(the kubelet's gRPC probes cannot speak TLS, so health needs its own "
                      "plaintext port)")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        if not probe:
            errors.append(f"coordinator: no {kind}")
            continue
        port = grpc_probe_port(probe)
        if port is None:
            errors.append(f"coordinator: {kind} is not a native gRPC probe (grpc: port)")
        elif port != health_port:
            errors.append(f"coordinator: {kind} probes port {port}, not the health port "
                          f"{health_port}")
    startup = container.get("startupProbe") or {}
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    if startup and budget < MIN_STARTUP_SECONDS:
        errors.append(f"coordinator: the startupProbe allows {budget} s, less than "
                      f"{MIN_STARTUP_SECONDS} s for a migration")


def selects(selector, labels):
    """Whether a LabelSelector (matchLabels and matchExpressions) selects `labels`."""
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def check_network_policy(errors, policies, coordinator_labels, client_labels, grpc_port):
    """Some NetworkPolicy selects the coordinator for Ingress, and every rule admitting
    traffic to it admits only pods with the worker or CLI labels, only to its gRPC port."""
    governing = [p for p in policies
                 if selects((p.get("spec") or {}).get("podSelector"), coordinator_labels)
                 and "Ingress" in ((p.get("spec") or {}).get("policyTypes") or ["Ingress"])]
    if not governing:
        errors.append("no NetworkPolicy restricts ingress to the coordinator")
        return
    admitted = set()
    for policy in governing:
        for rule in (policy.get("spec") or {}).get("ingress") or []:
            sources = rule.get("from")
            if not sources:
                errors.append("coordinator NetworkPolicy: an ingress rule without 'from' admits "
                              "every pod")
                continue
            for source in sources:
                selector = source.get("podSelector")
                if "ipBlock" in source or selector is None or "namespaceSelector" in source:
                    errors.append(f"coordinator NetworkPolicy: source {source} is not a pod "
                                  "selector in the namespace")
                    continue
                matched = [name for name, labels in client_labels.items()
                           if selects(selector, labels)]
                if not matched:
                    errors.append(f"coordinator NetworkPolicy: source {selector} is neither the "
                                  "workers nor the CLI pod")
                admitted.update(matched)
            ports = [p.get("port") for p in rule.get("ports") or []]
            if not ports or any(p not in ("grpc", grpc_port) for p in ports):
                errors.append(f"coordinator NetworkPolicy: ports {ports} are not only the gRPC "
                              "port")
    for name in client_labels:
        if name not in admitted:
            errors.append(f"coordinator NetworkPolicy: the {name} pods cannot reach it")


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

    namespaces = by_kind.get("Namespace", [])
    if not any(((n.get("metadata") or {}).get("labels") or {})
               .get("pod-security.kubernetes.io/enforce") == "restricted" for n in namespaces):
        errors.append("namespace: no label pod-security.kubernetes.io/enforce: restricted")

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
        check_flag_from_secret(errors, "coordinator", args, mounts, kustomization, "--tls-cert",
                               TLS_SECRET, "tls.crt")
        check_flag_from_secret(errors, "coordinator", args, mounts, kustomization, "--tls-key",
                               TLS_SECRET, "tls.key")
        check_coordinator_probes(errors, container)
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

    deployments = {}
    for d in by_kind.get("Deployment", []):
        component = ((d.get("metadata") or {}).get("labels") or {}).get(
            "app.kubernetes.io/component")
        deployments.setdefault(component, []).append(d)
    if len(deployments.get("worker", [])) != 1 or len(deployments.get("cli", [])) != 1:
        errors.append("expected one Deployment each with component worker and cli, found "
                      f"{ {k: len(v) for k, v in deployments.items()} }")
        return errors
    workers = deployments["worker"][0]
    worker_spec = workers.get("spec") or {}
    worker_template = worker_spec.get("template") or {}
    worker_labels = (worker_template.get("metadata") or {}).get("labels") or {}
    if not labels_match((worker_spec.get("selector") or {}).get("matchLabels"), worker_labels):
        errors.append("worker Deployment: selector does not match its pod labels")
    if labels_match(worker_labels, pod_labels) or labels_match(pod_labels, worker_labels):
        errors.append("worker and coordinator pods carry the same labels: the Service "
                      "would send RPCs to workers")
    worker, worker_mounts = check_pod(errors, "worker", worker_template.get("spec") or {},
                                      kustomization, WORKER_SECRET)
    expected = f"{spec.get('serviceName')}:{COORDINATOR_PORT}"
    if worker is not None:
        server = flag_value(worker.get("args") or [], "--server")
        if server != expected:
            errors.append(f"worker: --server is {server}, expected the Service at {expected}")
        check_flag_from_secret(errors, "worker", worker.get("args") or [], worker_mounts,
                               kustomization, "--tls-ca", CA_SECRET, "ca.crt")

    cli_template = (deployments["cli"][0].get("spec") or {}).get("template") or {}
    cli_labels = (cli_template.get("metadata") or {}).get("labels") or {}
    cli_pod = cli_template.get("spec") or {}
    cli_containers = cli_pod.get("containers") or []
    if len(cli_containers) != 1:
        errors.append("cli: expected exactly one container")
    else:
        cli = cli_containers[0]
        check_restricted(errors, "cli", cli_pod, cli)
        env = {e.get("name"): e for e in cli.get("env") or []}
        token_ref = ((env.get("DEEPSWEEP_TOKEN") or {}).get("valueFrom") or {}).get(
            "secretKeyRef") or {}
        if token_ref.get("name") != CLI_TOKEN_SECRET:
            errors.append(f"cli: DEEPSWEEP_TOKEN must come from Secret '{CLI_TOKEN_SECRET}' "
                          "(the submitter's token)")
        if (env.get("DEEPSWEEP_SERVER") or {}).get("value") != expected:
            errors.append(f"cli: DEEPSWEEP_SERVER must be {expected}")
        cli_volumes = {v.get("name"): v for v in cli_pod.get("volumes") or []}
        if not any(((cli_volumes.get(m.get("name")) or {}).get("secret") or {})
                   .get("secretName") == CA_SECRET for m in cli.get("volumeMounts") or []):
            errors.append(f"cli: the CA Secret '{CA_SECRET}' is not mounted")
    generators = {g.get("name"): g for g in kustomization.get("secretGenerator") or []}
    cli_files = (generators.get(CLI_TOKEN_SECRET) or {}).get("files") or []
    if "token=secrets/submitter.token" not in cli_files:
        errors.append(f"secretGenerator '{CLI_TOKEN_SECRET}' must hold the submitter's token "
                      f"(token=secrets/submitter.token), holds {cli_files}")

    check_network_policy(errors, by_kind.get("NetworkPolicy", []), pod_labels,
                         {"worker": worker_labels, "cli": cli_labels}, COORDINATOR_PORT)
    budgets = [b for b in by_kind.get("PodDisruptionBudget", [])
               if selects((b.get("spec") or {}).get("selector"), pod_labels)]
    if not budgets:
        errors.append("no PodDisruptionBudget covers the coordinator")
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
        ("privilege escalation", lambda k, m, c: pod(m, "StatefulSet")["containers"][0][
            "securityContext"].update(allowPrivilegeEscalation=True)),
        ("capabilities kept", lambda k, m, c: pod(m, "StatefulSet")["containers"][0][
            "securityContext"].pop("capabilities")),
        ("no seccomp", lambda k, m, c: (pod(m, "Deployment")["securityContext"].pop(
            "seccompProfile"), pod(m, "Deployment")["containers"][0]["securityContext"].pop(
            "seccompProfile"))),
        ("host network", lambda k, m, c: pod(m, "StatefulSet").update(hostNetwork=True)),
        ("namespace not enforcing", lambda k, m, c: doc(m, "Namespace")["metadata"].update(
            labels={})),
        ("no startup probe", lambda k, m, c: pod(m, "StatefulSet")["containers"][0].pop(
            "startupProbe")),
        ("exec liveness probe", lambda k, m, c: pod(m, "StatefulSet")["containers"][0].update(
            livenessProbe={"exec": {"command": ["deepsweep", "health"]}})),
        ("short startup budget", lambda k, m, c: pod(m, "StatefulSet")["containers"][0][
            "startupProbe"].update(failureThreshold=3)),
        ("probe on the TLS port", lambda k, m, c: pod(m, "StatefulSet")["containers"][0][
            "readinessProbe"]["grpc"].update(port=50051)),
        ("no disruption budget", lambda k, m, c: [d.update(kind="ConfigMap") for docs in
                                                  m.values() for d in docs
                                                  if d.get("kind") == "PodDisruptionBudget"]),
        ("policy open to all", lambda k, m, c: doc(m, "NetworkPolicy")["spec"]["ingress"][0].update(
            {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})),
        ("policy without from", lambda k, m, c: doc(m, "NetworkPolicy")["spec"]["ingress"][0].pop(
            "from")),
        ("no network policy", lambda k, m, c: [d.update(kind="ConfigMap") for docs in m.values()
                                               for d in docs if d.get("kind") == "NetworkPolicy"]),
        ("coordinator without TLS", lambda k, m, c: [pod(m, "StatefulSet")["containers"][0][
            "args"].remove(a) for a in ("--tls-key", "/etc/deepsweep/tls/tls.key")]),
        ("worker without the CA", lambda k, m, c: set_arg(
            pod(m, "Deployment")["containers"][0], "--tls-ca", "/tmp/ca.crt")),
        ("cli with the admin token", lambda k, m, c: [g.update(files=["token=secrets/admin.token"])
                                                      for g in k["secretGenerator"]
                                                      if g["name"] == "deepsweep-cli-token"]),
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
