#!/usr/bin/env python3
"""Checks what deploy/ tells snowdrift to do against the real binary, and the files' shapes.

Usage: scripts/check-deploy.py SNOWDRIFT_BIN   (scripts/check-deploy runs it in its venv)

- Compose, Kubernetes and systemd: every SNOWDRIFT_* variable and every flag they set is run
  through `snowdrift serve --print-config` with the image's own environment (the Dockerfile's
  ENV), so an unknown variable, a misspelt flag or a bad value (each exits 2) fails here.
  The locked-down variants are checked as they are used: the compose overrides layered on the
  files they extend (COMPOSE_LAYERS), the systemd units with and without the tls-auth.conf
  drop-in. Settings only mentioned in comments that the binary does not know are listed.
- Secrets: every file a setting names under /run/secrets/ (compose) or a Secret mount
  (Kubernetes) is mounted in that container, and compose secrets come from files, never
  inline; with TLS on the HTTP listener the probes and the ServiceMonitor speak HTTPS.
- The StatefulSet's machine ID from the pod index: indexes 0-31 are accepted, 32 is refused
  naming SNOWDRIFT_MACHINE_ID (the 32-per-datacenter cap its comment states).
- systemd: ExecReload sends SIGHUP (certificate and token reload).
- Compose: YAML-valid; three etcd members with healthchecks; the nodes wait for all of them
  to be healthy; every snowdrift service stops with SIGTERM and a grace that covers the drain.
- Kubernetes: probes on /readyz, /healthz and a startup probe; non-root, read-only root, no
  capabilities; a termination grace that covers the drain; the ServiceMonitor's shape (a CRD
  kubernetes-validate has no schema for).
- Monitoring: every snowdrift_* name in the alert rules and the Grafana dashboard is a series
  the code records; the dashboard is valid JSON whose panels all have queries.
"""

import glob
import json
import os
import re
import subprocess
import sys

import jsonschema
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAILURES = []


def fail(message):
    FAILURES.append(message)
    print(f"check-deploy: FAIL {message}", file=sys.stderr)


def image_env():
    """The Dockerfile's ENV, as the image's processes see it."""
    text = open(os.path.join(ROOT, "deploy/Dockerfile")).read().replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for name, value in re.findall(r"(\w+)=(\S+)", line[4:]):
                env[name] = value
    return env


def print_config(binary, where, args, env, expect_ok=True, needle=None):
    """Runs `snowdrift ARGS --print-config` with exactly ENV (plus PATH); checks the outcome."""
    full = {"PATH": "/usr/bin:/bin"}
    full.update(image_env())
    full.update(env)
    if not args or args[0] != "serve":
        fail(f"{where}: the command is not `serve`: {args}")
        return
    run = subprocess.run(
        [binary, *args, "--print-config"], env=full, capture_output=True, text=True, timeout=30
    )
    if expect_ok and run.returncode != 0:
        fail(f"{where}: snowdrift {' '.join(args)} with {env} exits {run.returncode}: "
             f"{run.stderr.strip()}")
    elif not expect_ok and (run.returncode != 2 or (needle and needle not in run.stderr)):
        fail(f"{where}: expected a refusal naming {needle}, got exit {run.returncode}: "
             f"{run.stderr.strip()}")
    else:
        settings = len([n for n in env if n.startswith("SNOWDRIFT_")])
        print(f"check-deploy: ok {where}: {settings} SNOWDRIFT_* variables, flags {args[1:]}")
    return run


def commented_settings(path):
    """SNOWDRIFT_* names that appear only in comments of PATH, and whether each is a setting."""
    text = open(path).read()
    names = set(re.findall(r"#.*?\b(SNOWDRIFT_[A-Z_]+)", text))
    live = set(re.findall(r"^[^#\n]*\b(SNOWDRIFT_[A-Z_]+)", text, re.M))
    return sorted(names - live)


def report_commented(binary, path):
    """Names the commented settings of PATH that the binary does not know yet (information)."""
    pending = []
    for name in commented_settings(path):
        run = subprocess.run([binary, "serve", "--print-config"], env={"PATH": "/usr/bin:/bin",
                             name: "x"}, capture_output=True, text=True, timeout=30)
        if "unknown environment variable" in run.stderr:
            pending.append(name)
    if pending:
        print(f"check-deploy: note {os.path.relpath(path, ROOT)}: commented out, not settings "
              f"of this binary yet: {', '.join(pending)}")


def duration_seconds(text):
    match = re.fullmatch(r"(\d+)(ms|s|m)", str(text))
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2)
    return value / 1000 if unit == "ms" else value * (60 if unit == "m" else 1)


# Each compose file and the files it is layered on (`docker compose -f A -f B`), in order.
COMPOSE_LAYERS = {
    "docker-compose.yml": [],
    "docker-compose.local.yml": [],
    "docker-compose.secure.yml": ["docker-compose.yml"],
    "docker-compose.etcd-auth.yml": ["docker-compose.yml", "docker-compose.secure.yml"],
    "docker-compose.local.secure.yml": ["docker-compose.local.yml"],
}
# Sequences an override replaces rather than extends (Compose's merge rules).
COMPOSE_REPLACED = {"command", "entrypoint", "test"}


def compose_merge(base, override, key=None):
    """Compose's merge of an override file onto a base: mappings merge, most sequences
    are extended, commands and healthcheck tests are replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = compose_merge(base[name], value, name) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in COMPOSE_REPLACED:
        return base + [item for item in override if item not in base]
    return override


def load_compose(name):
    doc = {}
    for layer in COMPOSE_LAYERS[name] + [name]:
        layer_doc = yaml.safe_load(open(os.path.join(ROOT, "deploy/compose", layer)))
        doc = compose_merge(doc, layer_doc)
    return doc


def secret_targets(service_secrets):
    """Where each of a service's compose secrets is mounted."""
    targets = {}
    for item in service_secrets or []:
        source = item if isinstance(item, str) else item.get("source")
        target = source if isinstance(item, str) else item.get("target", source)
        targets[source] = target if target.startswith("/") else f"/run/secrets/{target}"
    return targets


def check_compose(binary):
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/compose/*.yml"))):
        name = os.path.relpath(path, ROOT)
        base = os.path.basename(path)
        if base not in COMPOSE_LAYERS:
            fail(f"{name}: not in COMPOSE_LAYERS of scripts/check-deploy.py (which files it extends)")
            continue
        try:
            doc = load_compose(base)
        except yaml.YAMLError as err:
            fail(f"{name}: not valid YAML: {err}")
            continue
        if COMPOSE_LAYERS[base]:
            name = f"{name} (on {', '.join(COMPOSE_LAYERS[base])})"
        declared = doc.get("secrets") or {}
        for secret, spec in declared.items():
            if set(spec) != {"file"}:
                fail(f"{name}: secret {secret} is not read from a file: {spec}")
        services = doc.get("services") or {}
        etcd = [s for s, spec in services.items() if "etcd" in str(spec.get("image", ""))]
        nodes = [s for s, spec in services.items() if "snowdrift" in str(spec.get("image", ""))]
        if not nodes:
            fail(f"{name}: no snowdrift service")
        for service in etcd:
            if "test" not in (services[service].get("healthcheck") or {}):
                fail(f"{name}: {service} has no healthcheck")
        if "local" not in base and (len(etcd), len(nodes)) != (3, 3):
            fail(f"{name}: expected 3 etcd members and 3 snowdrift nodes, got {etcd}, {nodes}")
        for service, spec in services.items():
            mounted = secret_targets(spec.get("secrets"))
            for secret in mounted:
                if secret not in declared:
                    fail(f"{name} service {service}: secret {secret} is not declared")
            env = spec.get("environment") or {}
            if isinstance(env, list):
                env = dict(item.split("=", 1) for item in env)
            argv = list(spec.get("healthcheck", {}).get("test") or [])
            for value in [str(v) for v in env.values()] + [str(a) for a in argv]:
                for file in re.findall(r"/run/secrets/[\w.-]+", value):
                    if file not in mounted.values():
                        fail(f"{name} service {service}: {file} is named but not mounted")
        for service in nodes:
            spec = services[service]
            where = f"{name} service {service}"
            depends = spec.get("depends_on") or {}
            for member in etcd:
                if (depends.get(member) or {}).get("condition") != "service_healthy":
                    fail(f"{where}: does not wait for {member} to be healthy")
            if spec.get("stop_signal") != "SIGTERM":
                fail(f"{where}: stop_signal is not SIGTERM")
            grace = duration_seconds(spec.get("stop_grace_period", "10s"))
            if grace is None or grace < 30:
                fail(f"{where}: stop_grace_period {spec.get('stop_grace_period')} < 30s")
            if not spec.get("read_only") or spec.get("cap_drop") != ["ALL"]:
                fail(f"{where}: not read_only with every capability dropped")
            env = spec.get("environment") or {}
            if isinstance(env, list):
                env = dict(item.split("=", 1) for item in env)
            command = spec.get("command") or ["serve"]
            if isinstance(command, str):
                command = command.split()
            print_config(binary, where, list(command), {k: str(v) for k, v in env.items()})
        report_commented(binary, path)


def k8s_documents():
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/kubernetes/*/*.yaml"))):
        for doc in yaml.safe_load_all(open(path)):
            if doc:
                yield os.path.relpath(path, ROOT), doc


SERVICE_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "required": ["matchLabels"],
                    "properties": {"matchLabels": {"type": "object", "minProperties": 1}},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["port", "path"],
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"const": "/metrics"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m)$"},
                            "scheme": {"enum": ["http", "https"]},
                            "tlsConfig": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "ca": {"type": "object"},
                                    "serverName": {"type": "string"},
                                    "insecureSkipVerify": {"type": "boolean"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def service_links(services):
    """The variables the kubelet injects into a pod for each Service of its namespace
    (docker-style links), e.g. SNOWDRIFT_SERVICE_HOST and SNOWDRIFT_PORT_8080_TCP_ADDR."""
    env = {}
    for name, svc in services.items():
        prefix = name.upper().replace("-", "_")
        ports = svc["spec"].get("ports", [])
        if not ports or svc["spec"].get("clusterIP") == "None":
            continue
        first = ports[0]
        env[f"{prefix}_SERVICE_HOST"] = "10.0.0.1"
        env[f"{prefix}_SERVICE_PORT"] = str(first["port"])
        env[f"{prefix}_PORT"] = f"tcp://10.0.0.1:{first['port']}"
        for port in ports:
            number, proto = port["port"], port.get("protocol", "TCP")
            if "name" in port:
                env[f"{prefix}_SERVICE_PORT_{port['name'].upper()}"] = str(number)
            base = f"{prefix}_PORT_{number}_{proto}"
            env[base] = f"{proto.lower()}://10.0.0.1:{number}"
            env[f"{base}_PROTO"] = proto.lower()
            env[f"{base}_PORT"] = str(number)
            env[f"{base}_ADDR"] = "10.0.0.1"
    return env


def check_kubernetes(binary):
    docs = list(k8s_documents())
    for name, doc in docs:
        kind = doc["kind"]
        where = f"{name} {kind}/{doc['metadata']['name']}"
        if kind == "ServiceMonitor":
            try:
                jsonschema.validate(doc, SERVICE_MONITOR)
            except jsonschema.ValidationError as err:
                fail(f"{where}: {err.message}")
            # Each folder is one variant, applied alone: match within it.
            folder = os.path.dirname(name)
            services = {d["metadata"]["name"]: d for n, d in docs
                        if d["kind"] == "Service" and os.path.dirname(n) == folder}
            wanted = doc["spec"]["selector"]["matchLabels"]
            matched = [s for s, svc in services.items()
                       if all(svc["metadata"].get("labels", {}).get(k) == v
                              for k, v in wanted.items())]
            if len(matched) != 1:
                fail(f"{where}: selects {matched or 'no Service'}; exactly one, or pods are "
                     "scraped twice or never")
            continue
        if kind not in ("Deployment", "StatefulSet"):
            continue
        # The Services of the same variant inject their link variables into every pod unless
        # enableServiceLinks is false; the node must start either way, so they are included.
        folder = os.path.dirname(name)
        links = service_links({d["metadata"]["name"]: d for n, d in docs
                               if d["kind"] == "Service" and os.path.dirname(n) == folder})
        pod = doc["spec"]["template"]["spec"]
        if pod.get("terminationGracePeriodSeconds", 30) < 30:
            fail(f"{where}: terminationGracePeriodSeconds below 30")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            fail(f"{where}: the pod does not require a non-root user")
        for container in pod["containers"]:
            cwhere = f"{where} container {container['name']}"
            probes = {p: container.get(p, {}).get("httpGet", {}).get("path")
                      for p in ("readinessProbe", "livenessProbe", "startupProbe")}
            if probes != {"readinessProbe": "/readyz", "livenessProbe": "/healthz",
                          "startupProbe": "/readyz"}:
                fail(f"{cwhere}: probes {probes}")
            startup = container.get("startupProbe", {})
            if startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) < 30:
                fail(f"{cwhere}: the startup probe allows less than 30 s")
            security = container.get("securityContext", {})
            if not (security.get("readOnlyRootFilesystem")
                    and security.get("allowPrivilegeEscalation") is False
                    and security.get("capabilities", {}).get("drop") == ["ALL"]):
                fail(f"{cwhere}: not read-only, or may escalate, or keeps capabilities")
            env, pod_index = {}, None
            for item in container.get("env", []):
                if "value" in item:
                    env[item["name"]] = str(item["value"])
                    continue
                field = item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
                if field == "metadata.labels['apps.kubernetes.io/pod-index']":
                    pod_index = item["name"]
                else:
                    fail(f"{cwhere}: {item['name']} comes from {item.get('valueFrom')}, which "
                         "this check cannot stand in for")
            args = container.get("args") or ["serve"]
            check_k8s_secrets(cwhere, pod, container, env, docs, folder)
            env = {**links, **env}
            if pod_index is None:
                print_config(binary, cwhere, args, env)
                continue
            # The downward API hands the pod's ordinal: the first and last allowed, and one
            # past the cap, refused naming the variable.
            for ordinal in ("0", "31"):
                print_config(binary, f"{cwhere} ({pod_index}={ordinal})", args,
                             {**env, pod_index: ordinal})
            print_config(binary, f"{cwhere} ({pod_index}=32, over the cap)", args,
                         {**env, pod_index: "32"}, expect_ok=False, needle=pod_index)
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/kubernetes/*/*.yaml"))):
        report_commented(binary, path)


def check_k8s_secrets(where, pod, container, env, docs, folder):
    """Files the settings name come from read-only Secret mounts; with TLS on HTTP, the probes
    and the variant's ServiceMonitor speak HTTPS."""
    secret_volumes = {v["name"] for v in pod.get("volumes", []) if "secret" in v}
    mounts = [(m["mountPath"].rstrip("/") + "/", m) for m in container.get("volumeMounts", [])
              if m["name"] in secret_volumes]
    for name, value in env.items():
        if not (name.endswith(("_FILE", "_CERT", "_KEY", "_CA"))):
            continue
        mount = next((m for prefix, m in mounts if value.startswith(prefix)), None)
        if mount is None:
            fail(f"{where}: {name}={value} is not under a Secret mount")
        elif not mount.get("readOnly"):
            fail(f"{where}: the Secret mount {mount['mountPath']} is not readOnly")
    plaintext = [p.strip() for p in env.get("SNOWDRIFT_PLAINTEXT", "").split(",")]
    if "SNOWDRIFT_TLS_CERT" in env and "http" not in plaintext:
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if container.get(probe, {}).get("httpGet", {}).get("scheme") != "HTTPS":
                fail(f"{where}: {probe} is not HTTPS, but the HTTP listener speaks TLS")
        for n, d in docs:
            if d["kind"] == "ServiceMonitor" and os.path.dirname(n) == folder:
                for endpoint in d["spec"]["endpoints"]:
                    if endpoint.get("scheme") != "https":
                        fail(f"{n}: scrapes {endpoint.get('port')} without https, but the "
                             "HTTP listener speaks TLS")


def systemd_lines(path, key):
    return [line.split("=", 1)[1] for line in open(path).read().splitlines()
            if line.startswith(key + "=")]


def check_systemd(binary):
    drop_in = os.path.join(ROOT, "deploy/systemd/tls-auth.conf")
    drop_env = dict(item.split("=", 1) for item in systemd_lines(drop_in, "Environment"))
    if not {"SNOWDRIFT_TLS_CERT", "SNOWDRIFT_TLS_KEY", "SNOWDRIFT_AUTH_TOKEN_FILE"} <= set(drop_env):
        fail(f"tls-auth.conf: does not set the TLS files and the token file: {drop_env}")
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/systemd/*.service"))):
        name = os.path.relpath(path, ROOT)
        (exec_start,) = systemd_lines(path, "ExecStart")
        # The specifiers as systemd expands them for a system unit, instance 8081.
        exec_start = exec_start.replace("%S", "/var/lib").replace("%i", "8081")
        argv = exec_start.split()
        if argv[0] != "/usr/local/bin/snowdrift":
            fail(f"{name}: ExecStart runs {argv[0]}")
        env = dict(item.split("=", 1) for item in systemd_lines(path, "Environment"))
        print_config(binary, name, argv[1:], env)
        print_config(binary, f"{name} with tls-auth.conf", argv[1:], {**env, **drop_env})
        for key, wanted in [("DynamicUser", "yes"), ("ProtectSystem", "strict"),
                            ("ProtectClock", "yes"), ("NoNewPrivileges", "yes"),
                            ("Restart", "on-failure"), ("StateDirectory", "snowdrift"),
                            ("KillSignal", "SIGTERM"),
                            ("ExecReload", "/bin/kill -HUP $MAINPID")]:
            if systemd_lines(path, key) != [wanted]:
                fail(f"{name}: {key} is {systemd_lines(path, key)}, not {wanted}")
        if name.endswith("@.service") and "--machine-id auto" not in exec_start:
            fail(f"{name}: the template does not claim --machine-id auto")
        report_commented(binary, path)


def recorded_metrics():
    """Every snowdrift_* series name written in the crates' sources."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "crates/*/src/**/*.rs"), recursive=True):
        names.update(re.findall(r'"(snowdrift_[a-z_]+)"', open(path).read()))
    return names


def check_monitoring():
    known = recorded_metrics()

    def check_names(where, text):
        for name in sorted(set(re.findall(r"\bsnowdrift_[a-z_]+", text))):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            if name not in known and base not in known:
                fail(f"{where}: {name} is no series snowdrift records")

    rules = os.path.join(ROOT, "deploy/monitoring/snowdrift.rules.yml")
    doc = yaml.safe_load(open(rules))
    for group in doc["groups"]:
        for rule in group["rules"]:
            if not rule.get("annotations", {}).get("runbook"):
                fail(f"snowdrift.rules.yml: {rule.get('alert')} has no runbook line")
            check_names(f"snowdrift.rules.yml {rule.get('alert')}", rule["expr"])
    dashboard_path = os.path.join(ROOT, "deploy/monitoring/grafana-dashboard.json")
    dashboard = json.load(open(dashboard_path))
    for panel in dashboard["panels"]:
        targets = panel.get("targets") or []
        if not targets:
            fail(f"grafana-dashboard.json: panel {panel.get('title')} has no query")
        for target in targets:
            check_names(f"grafana-dashboard.json panel {panel.get('title')}", target["expr"])
    print(f"check-deploy: ok monitoring: {len(known)} series known to the code")


def main():
    binary = sys.argv[1]
    check_compose(binary)
    check_kubernetes(binary)
    check_systemd(binary)
    check_monitoring()
    if FAILURES:
        print(f"check-deploy: {len(FAILURES)} failed", file=sys.stderr)
        sys.exit(1)
    print("check-deploy: every deployment file agrees with the binary")


if __name__ == "__main__":
    main()
