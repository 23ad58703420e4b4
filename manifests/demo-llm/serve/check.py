#!/usr/bin/env python3
"""Activation check for the demo (stands in for `systemctl restart` + a
health URL on a real site): loads the model the way an inference server does
offline, from the Hugging Face cache the installer keeps (HF_HUB_CACHE,
HF_HUB_OFFLINE=1), reading refs/main, the snapshot and every safetensors
header, and records which version it found. `--health` checks that the
recorded version is the one being activated."""
import json
import os
import struct
import sys

cache = os.environ["HF_HUB_CACHE"]
version = os.environ["AIRLOCK_VERSION"]
state = os.path.join(os.environ["AIRLOCK_ROOT"], "demo-llm.serving")
repo = os.path.join(cache, "models--airlock--demo-llm")

if "--health" in sys.argv:
    ok = os.path.exists(state) and open(state).read() == version
    sys.exit(0 if ok else 1)

commit = open(os.path.join(repo, "refs", "main")).read()
snapshot = os.path.join(repo, "snapshots", commit)
tensors = 0
for name in sorted(os.listdir(snapshot)):
    if name.endswith(".safetensors"):
        with open(os.path.join(snapshot, name), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            tensors += len([k for k in json.loads(f.read(n)) if k != "__metadata__"])
with open(state, "w") as f:
    f.write(version)
print(f"demo-llm {version}: loaded {tensors} tensors from HF cache snapshot {commit[:12]} (offline)")
