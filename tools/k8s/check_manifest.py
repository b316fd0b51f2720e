#!/usr/bin/env python3
"""Checks Kubernetes manifests against the API's schema, offline.

Every document of each YAML file is checked against the models of the
official Kubernetes Python client (generated from the API's OpenAPI
schema): each field must be one the object's type has, of that type,
and the fields the API requires must be there (the client's own checks,
by building the object). Prints, as JSON, what docs/distributed_test.go
runs: per document its kind, name, Job settings and containers' command
and arguments. Exits non-zero, naming the file, document and field, on
the first error.

    check_manifest.py FILE.yaml...
"""
import json
import re
import sys

import yaml
from kubernetes import client
from kubernetes.client import models

PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object, "bytes": str, "datetime": str}


def check(value, type_name, where):
    """Checks value against the client's type name, recursively."""
    if value is None:
        return
    m = re.fullmatch(r"List\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            raise ValueError(f"{where}: a list expected, got {type(value).__name__}")
        for i, v in enumerate(value):
            check(v, m.group(1), f"{where}[{i}]")
        return
    m = re.fullmatch(r"Dict\[str, (.+)\]", type_name)
    if m:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: a map expected, got {type(value).__name__}")
        for k, v in value.items():
            check(v, m.group(1), f"{where}.{k}")
        return
    if type_name in PRIMITIVES:
        if not isinstance(value, PRIMITIVES[type_name]) or (type_name == "int" and isinstance(value, bool)):
            raise ValueError(f"{where}: {type_name} expected, got {value!r}")
        return
    cls = getattr(models, type_name, None)
    if cls is None:
        raise ValueError(f"{where}: unknown type {type_name}")
    if not isinstance(value, dict):
        raise ValueError(f"{where}: a {type_name} object expected, got {value!r}")
    fields = {json_name: attr for attr, json_name in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in fields:
            raise ValueError(f"{where}: {type_name} has no field {key!r} (its fields: {', '.join(sorted(fields))})")
        check(v, cls.openapi_types[fields[key]], f"{where}.{key}")


def model_of(doc, where):
    version = doc.get("apiVersion", "")
    group_version = version.split("/")[-1]
    group = version.split("/")[0] if "/" in version else "core"
    name = "V1" + doc.get("kind", "") if group_version == "v1" else group_version.capitalize() + doc.get("kind", "")
    if not hasattr(models, name):
        raise ValueError(f"{where}: no type for apiVersion {version!r} kind {doc.get('kind')!r} (group {group})")
    return name


def summary(doc):
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    return {
        "kind": doc["kind"],
        "name": doc.get("metadata", {}).get("name", ""),
        "completion_mode": spec.get("completionMode", ""),
        "completions": spec.get("completions", 0),
        "parallelism": spec.get("parallelism", 0),
        "containers": [
            {
                "command": c.get("command", []),
                "args": c.get("args", []),
                "mounts": {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])},
            }
            for c in pod.get("containers", [])
        ],
    }


def main(paths):
    api = client.ApiClient()
    out = []
    for path in paths:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            where = f"{path}, document {i + 1}"
            try:
                name = model_of(doc, where)
                check(doc, name, where)
                # Building the object runs the client's checks of required
                # fields and allowed values.
                api.deserialize(json.dumps(doc), name, "application/json")
            except ValueError as e:
                sys.exit(str(e) if str(e).startswith(where) else f"{where}: {e}")
            out.append(dict(summary(doc), file=path))
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
