#!/usr/bin/python3
"""Checks on rendered manifests that a schema cannot express.

Usage: manifests_test.py RENDERED_DIR
RENDERED_DIR holds <overlay>.yaml for each overlay (kubectl kustomize output);
deploy/checks.sh renders them. Each check prints its name; any failure makes
the exit status 1.
"""
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECOMMENDED = ("app.kubernetes.io/name", "app.kubernetes.io/instance",
               "app.kubernetes.io/version", "app.kubernetes.io/part-of",
               "app.kubernetes.io/managed-by")
# The only labels a selector may use: both are the same in every overlay, so
# a selector never changes (a Deployment's is immutable).
STABLE_SELECTOR = {"app.kubernetes.io/name": "certbridge",
                   "app.kubernetes.io/component": "server"}
CLUSTER_SCOPED = {"Namespace"}
# Objects beside certbridge's own (the dev emulator, the in-cluster Redis):
# their selectors pick their own pods.
ACCESSORIES = ("certbridge-emulator", "certbridge-redis")
# Images the project builds (tagged with its version); any other image must
# name an exact release (x.y.z) or a digest, never a moving tag.
PROJECT_IMAGES = ("certbridge", "certbridge-emulator")

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures.append(name)


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(objs, kind, name=None):
    return [o for o in objs if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)]


def one(objs, kind, name):
    found = find(objs, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} objects"
    return found[0]


def selector_matches(selector, labels):
    """A LabelSelector (matchLabels + matchExpressions) against labels."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def policy_admits(policies, target_ns, target_labels, port,
                  source_ns, source_ns_labels, source_labels):
    """NetworkPolicy semantics for ingress to one pod from another pod:
    if no policy selects the target, all is allowed; otherwise some ingress
    rule of a selecting policy must admit the source and the port."""
    selecting = [p for p in policies
                 if p["metadata"]["namespace"] == target_ns
                 and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
                 and selector_matches(p["spec"]["podSelector"], target_labels)]
    if not selecting:
        return True
    ns_labels = dict(source_ns_labels,
                     **{"kubernetes.io/metadata.name": source_ns})
    for p in selecting:
        for rule in p["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and not any(pp.get("port") == port for pp in ports):
                continue
            peers = rule.get("from")
            if not peers:
                return True
            for peer in peers:
                if "ipBlock" in peer:
                    continue
                pod_sel = peer.get("podSelector")
                ns_sel = peer.get("namespaceSelector")
                if ns_sel is None:
                    ns_ok = source_ns == target_ns
                else:
                    ns_ok = selector_matches(ns_sel, ns_labels)
                pod_ok = pod_sel is None or selector_matches(pod_sel, source_labels)
                if ns_ok and pod_ok:
                    return True
    return False


def policies_of(objs):
    return find(objs, "NetworkPolicy")


def egress_allows(policy, port, protocol):
    """Whether some egress rule of `policy` lets its pods reach `port`
    (anywhere: a rule naming peers counts too, as for a Redis in the
    namespace)."""
    for rule in policy["spec"].get("egress") or []:
        ports = rule.get("ports")
        if not ports or any(pt.get("port") == port and pt.get("protocol", "TCP") == protocol
                            for pt in ports):
            return True
    return False


def duration_seconds(text):
    total = 0.0
    for value, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", text):
        total += float(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(certbridge VERSION ([0-9.]+)", f.read()).group(1)


def runbook_anchors():
    with open(os.path.join(ROOT, "docs", "runbooks.md")) as f:
        return {re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-"))
                for h in re.findall(r"^#+ (.*)$", f.read(), re.M)}


def check_overlay(overlay, objs):
    p = overlay + ": "
    ns_objs = find(objs, "Namespace")
    deployment = one(objs, "Deployment", "certbridge")
    namespace = deployment["metadata"]["namespace"]
    check(p + "a Namespace object is rendered, and every object lives in it",
          [n["metadata"]["name"] for n in ns_objs] == [namespace]
          and all(o["metadata"].get("namespace") == namespace
                  for o in objs if o["kind"] not in CLUSTER_SCOPED),
          f"namespaces {[n['metadata']['name'] for n in ns_objs]}")

    # Replicas belong to the HPA: a replicas field would fight it on apply.
    hpas = find(objs, "HorizontalPodAutoscaler")
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in hpas}
    check(p + "the HPA owns the Deployment's replicas",
          "certbridge" in targets and "replicas" not in deployment["spec"],
          f"replicas={deployment['spec'].get('replicas')}, hpa targets {targets}")
    hpa = one(objs, "HorizontalPodAutoscaler", "certbridge")
    check(p + "the HPA's minimum is at least 1 and below its maximum",
          1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"])

    # Selectors: exactly the stable pair, and they select the pods.
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    check(p + "the Deployment selector is the stable name+component pair",
          deployment["spec"]["selector"] == {"matchLabels": STABLE_SELECTOR},
          json.dumps(deployment["spec"]["selector"]))
    for kind, get in (("Service", lambda o: {"matchLabels": o["spec"]["selector"]}),
                      ("PodDisruptionBudget", lambda o: o["spec"]["selector"]),
                      ("NetworkPolicy", lambda o: o["spec"]["podSelector"])):
        for o in find(objs, kind):
            if o["metadata"]["name"].startswith(ACCESSORIES):
                continue
            sel = get(o)
            check(p + f"{kind}/{o['metadata']['name']} selects the server pods with stable labels only",
                  sel == {"matchLabels": STABLE_SELECTOR}
                  and selector_matches(sel, pod_labels), json.dumps(sel))

    # Recommended labels on every object, and on the pods.
    version = project_version()
    missing = [f"{o['kind']}/{o['metadata']['name']}" for o in objs
               if not all(k in (o["metadata"].get("labels") or {}) for k in RECOMMENDED)]
    check(p + "every object carries the recommended app.kubernetes.io labels",
          not missing, ", ".join(missing))
    check(p + "the pods carry the recommended labels, version = the project's",
          all(k in pod_labels for k in RECOMMENDED)
          and pod_labels["app.kubernetes.io/version"] == version,
          json.dumps(pod_labels))

    # Images: the project's own carry its version; others a fixed release.
    images = [c["image"] for d in find(objs, "Deployment")
              for c in d["spec"]["template"]["spec"]["containers"]]
    own = [i for i in images
           if i.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1] in PROJECT_IMAGES]
    others = [i for i in images if i not in own]
    check(p + f"every image the project builds is tagged {version}",
          own and all(i.endswith(":" + version) for i in own), ", ".join(own))
    check(p + "every other image is pinned to a release or a digest",
          all("@sha256:" in i or re.search(r":[0-9]+\.[0-9]+\.[0-9]+[^:/]*$", i)
              for i in others), ", ".join(others))

    # Every pod as the restricted Pod Security Standard and the cluster's
    # resource quotas want it, accessories included.
    for d in find(objs, "Deployment"):
        spec = d["spec"]["template"]["spec"]
        for c in spec["containers"]:
            sc = c.get("securityContext") or {}
            check(p + f"{d['metadata']['name']}/{c['name']}: non-root, read-only root, no capabilities, limits, readiness",
                  (sc.get("runAsNonRoot") or (spec.get("securityContext") or {}).get("runAsNonRoot"))
                  and sc.get("readOnlyRootFilesystem") is True
                  and sc.get("allowPrivilegeEscalation") is False
                  and (sc.get("capabilities") or {}).get("drop") == ["ALL"]
                  and {"cpu", "memory"} <= set((c.get("resources") or {}).get("limits") or {})
                  and "readinessProbe" in c,
                  json.dumps(sc))

    # The ConfigMap carries a content hash and the Deployment uses it, so a
    # configuration edit rolls the pods.
    cms = find(objs, "ConfigMap")
    cm_names = [c["metadata"]["name"] for c in cms]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    check(p + "the ConfigMap name has a content hash and the Deployment mounts it",
          len(cms) == 1 and re.fullmatch(r"certbridge-config-[a-z0-9]{10}", cm_names[0])
          and volumes["config"]["configMap"]["name"] == cm_names[0], str(cm_names))
    config = json.loads(cms[0]["data"]["config.json"])

    # Termination: SIGKILL only after the drain delay and the grace period.
    drain = duration_seconds(config.get("shutdown_drain_delay", "5s"))
    grace = duration_seconds(config.get("shutdown_grace_period", "20s"))
    tgps = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    check(p + "terminationGracePeriodSeconds exceeds drain delay + grace period",
          tgps >= drain + grace + 5, f"{tgps} < {drain} + {grace} + 5")

    # Probes: native gRPC, on the plaintext health listener the config
    # opens (so they work with TLS on the gRPC listener).
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    health_port = int(config["health_listen_address"].rsplit(":", 1)[1])
    probes = {k: container[k] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    check(p + "every probe is a gRPC probe on health_listen_address's port",
          all(pr.get("grpc", {}).get("port") == health_port for pr in probes.values()),
          json.dumps(probes))
    check(p + "readiness asks for certbridge.v1.CertificateService",
          probes["readinessProbe"]["grpc"].get("service") == "certbridge.v1.CertificateService")
    check(p + "the health port is declared on the container",
          any(pt["containerPort"] == health_port for pt in container["ports"]))

    # Files the configuration names are mounted.
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    paths = [b["auth"][k] for b in config["backends"] for k in ("token_file",)
             if k in b["auth"]]
    paths += [v for k, v in (config.get("tls") or {}).items() if k.endswith("_file")]
    # Replicas must share the page token key, or a page fetched from
    # another replica is INVALID_ARGUMENT.
    check(p + "ListCertificates page tokens are signed with a key every replica mounts",
          config.get("page_token_key_file", "").startswith("/var/run/secrets/certbridge/"))
    paths.append(config.get("page_token_key_file", ""))
    idem = config.get("idempotency") or {}
    redis = idem.get("redis") or {}
    if idem.get("store") == "redis":
        paths += [f for f in (redis.get("password_file"),
                              (redis.get("tls") or {}).get("ca_file")) if f]
    for secret in find(objs, "Secret", "certbridge-credentials"):
        key = (secret.get("stringData") or {}).get("page-token-key", "")
        check(p + "the example Secret's page-token-key is long enough (32 bytes)",
              len(key.encode()) >= 32)
    unmounted = [f for f in paths if not any(f.startswith(m + "/") for m in mounts)]
    check(p + "every file the configuration names is on a mounted volume",
          not unmounted, ", ".join(unmounted))

    # The shared idempotency store: the config and components/redis-
    # idempotency go together, and certbridge may reach the address's port.
    redis_volume = any((v.get("secret") or {}).get("secretName") == "certbridge-redis"
                       for v in volumes.values())
    check(p + "the certbridge-redis Secret is mounted exactly when idempotency.store is redis",
          redis_volume == (idem.get("store") == "redis"),
          f"store {idem.get('store', 'memory')}, mounted {redis_volume}")
    np = one(objs, "NetworkPolicy", "certbridge")
    if idem.get("store") == "redis":
        host, _, port = redis.get("address", "").rpartition(":")
        check(p + f"certbridge may open TCP connections to Redis ({redis.get('address')})",
              egress_allows(np, int(port), "TCP"), json.dumps(np["spec"].get("egress")))
        check(p + "the Redis password comes from a file",
              bool(redis.get("password_file")))
        if find(objs, "Deployment", "certbridge-redis"):
            svc = one(objs, "Service", "certbridge-redis")
            rd = one(objs, "Deployment", "certbridge-redis")
            rd_labels = rd["spec"]["template"]["metadata"]["labels"]
            check(p + "the address names the in-cluster Redis Service and its port",
                  host in ("certbridge-redis", f"certbridge-redis.{namespace}.svc",
                           f"certbridge-redis.{namespace}.svc.cluster.local")
                  and any(pt["port"] == int(port) for pt in svc["spec"]["ports"])
                  and selector_matches({"matchLabels": svc["spec"]["selector"]}, rd_labels),
                  redis.get("address"))
            check(p + "one Redis instance (two would be two stores)",
                  rd["spec"].get("replicas") == 1
                  and rd["spec"].get("strategy", {}).get("type") == "Recreate")
            check(p + "the in-cluster Redis admits certbridge's pods",
                  policy_admits(policies_of(objs), namespace, rd_labels, int(port),
                                namespace, {}, pod_labels))
            check(p + "the in-cluster Redis admits no other pod, callers included",
                  not policy_admits(policies_of(objs), namespace, rd_labels, int(port),
                                    namespace, {}, {"certbridge-client": "true"})
                  and not policy_admits(policies_of(objs), namespace, rd_labels, int(port),
                                        "payments", {}, {}))
            redis_args = rd["spec"]["template"]["spec"]["containers"][0].get("args", [])
            check(p + "the in-cluster Redis writes nothing to disk and requires the password",
                  "--save" in redis_args and redis_args[redis_args.index("--save") + 1] == ""
                  and "--requirepass" in redis_args)
    else:
        check(p + "no Redis egress without idempotency.store redis",
              not egress_allows(np, 6379, "TCP"))

    # PDB must not block node drains with one replica.
    pdb = one(objs, "PodDisruptionBudget", "certbridge")
    check(p + "the PDB lets a drain evict a single replica",
          pdb["spec"].get("maxUnavailable", 0) >= 1 and "minAvailable" not in pdb["spec"],
          json.dumps(pdb["spec"]))

    # NetworkPolicy: what the README promises.
    policies = find(objs, "NetworkPolicy")
    grpc_port = int(config["listen_address"].rsplit(":", 1)[1])
    metrics_port = int(config["metrics_address"].rsplit(":", 1)[1])
    client = {"certbridge-client": "true"}
    check(p + "a caller labelled only certbridge-client=true, in another namespace, reaches gRPC",
          policy_admits(policies, namespace, pod_labels, grpc_port, "payments", {}, client))
    check(p + "a caller labelled only certbridge-client=true, in the same namespace, reaches gRPC",
          policy_admits(policies, namespace, pod_labels, grpc_port, namespace, {}, client))
    check(p + "a pod without the label does not reach gRPC",
          not policy_admits(policies, namespace, pod_labels, grpc_port, "payments", {},
                            {"app": "payments"}))
    check(p + "metrics are reachable from the monitoring namespace",
          policy_admits(policies, namespace, pod_labels, metrics_port, "monitoring", {},
                        {"app.kubernetes.io/name": "prometheus"}))
    check(p + "metrics are not reachable from other namespaces, callers included",
          not policy_admits(policies, namespace, pod_labels, metrics_port, "payments", {}, client))
    check(p + "the health port is not open to other pods (the kubelet probes from the node)",
          not policy_admits(policies, namespace, pod_labels, health_port, "payments", {}, client))
    if find(objs, "Deployment", "certbridge-emulator"):
        emu = one(objs, "Deployment", "certbridge-emulator")
        emu_labels = emu["spec"]["template"]["metadata"]["labels"]
        check(p + "the emulator admits certbridge's pods",
              policy_admits(policies, namespace, emu_labels, 8089, namespace, {}, pod_labels))
        check(p + "the emulator (which shows the tokens sent) admits no other pod",
              not policy_admits(policies, namespace, emu_labels, 8089, namespace, {}, client)
              and not policy_admits(policies, namespace, emu_labels, 8089, "payments", {}, {}))
        np = one(objs, "NetworkPolicy", "certbridge")
        check(p + "certbridge may call the emulator",
              any(any(selector_matches(peer.get("podSelector"), emu_labels)
                      for peer in rule.get("to") or [])
                  and any(pt.get("port") == 8089 for pt in rule.get("ports") or [])
                  for rule in np["spec"].get("egress") or []))

    # Monitoring objects: selectable by kube-prometheus-stack, scoped alerts.
    for kind in ("ServiceMonitor", "PrometheusRule"):
        o = one(objs, kind, "certbridge")
        check(p + f"{kind} carries a release label",
              bool(o["metadata"].get("labels", {}).get("release")))
    sm = one(objs, "ServiceMonitor", "certbridge")
    metric_services = [s for s in find(objs, "Service")
                       if selector_matches(sm["spec"]["selector"], s["metadata"]["labels"])
                       and any(pt["name"] == "metrics" for pt in s["spec"]["ports"])]
    check(p + "the ServiceMonitor scrapes exactly one Service's metrics port",
          [s["metadata"]["name"] for s in metric_services] == ["certbridge"])
    rule = one(objs, "PrometheusRule", "certbridge")
    scope = f'job="certbridge",namespace="{namespace}"'
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    check(p + f"alert scope follows the overlay ({scope})",
          sum(scope in e for e in exprs) == 2
          and not any(re.search(r'namespace="(?!' + re.escape(namespace) + ')', e)
                      for e in exprs))
    anchors = runbook_anchors()
    base = rule["metadata"]["annotations"]["certbridge.io/runbook-base-url"]
    for g in rule["spec"]["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            a = r.get("annotations", {})
            url = a.get("runbook_url", "")
            check(p + f"{r['alert']} has a summary, a description and a runbook that exists",
                  a.get("summary") and a.get("description")
                  and url == f"{base}#{r['alert'].lower()}"
                  and r["alert"].lower() in anchors, url)
            check(p + f"{r['alert']} is scoped to this installation",
                  "certbridge:up" in r["expr"])
    return config


def main():
    rendered = sys.argv[1]
    overlays = sorted(f[:-5] for f in os.listdir(rendered) if f.endswith(".yaml"))
    configs = {}
    selectors = set()
    for overlay in overlays:
        objs = load(os.path.join(rendered, overlay + ".yaml"))
        configs[overlay] = check_overlay(overlay, objs)
        selectors.add(json.dumps(one(objs, "Deployment", "certbridge")["spec"]["selector"],
                                 sort_keys=True))
    check("the Deployment selector is the same in every overlay", len(selectors) == 1,
          str(selectors))
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        check("the image's version label is the project's",
              f'org.opencontainers.image.version="{project_version()}"' in f.read())

    prod = configs.get("prod")
    check("the prod overlay is rendered", prod is not None)
    if prod:
        tls = prod.get("tls") or {}
        check("prod: gRPC over mutual TLS with an allow-list",
              tls.get("cert_file") and tls.get("key_file") and tls.get("client_ca_file")
              and tls.get("allowed_callers"), json.dumps(tls))
        check("prod: reflection is off", prod.get("reflection") is False)
        check("prod: plaintext HTTP to backends is not allowed",
              all(not (b.get("tls") or {}).get("allow_insecure_http") for b in prod["backends"]))
        # Several replicas: a repeated Create must find the first call's
        # outcome wherever it lands, and a Redis outage must not quietly
        # turn that into per-pod deduplication.
        idem = prod.get("idempotency") or {}
        redis = idem.get("redis") or {}
        check("prod: request_id outcomes shared through Redis, over TLS, failing closed",
              idem.get("store") == "redis" and (redis.get("tls") or {}).get("enabled") is True
              and redis.get("on_unavailable", "fail") == "fail", json.dumps(idem))
    mesh = configs.get("prod-mesh")
    if mesh:
        check("prod-mesh: reflection is off, no TLS (the mesh does it)",
              mesh.get("reflection") is False and "tls" not in mesh)
    if failures:
        print(f"{len(failures)} manifest checks failed", file=sys.stderr)
        sys.exit(1)
    print("manifest checks: OK")


main()
