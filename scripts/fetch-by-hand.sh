#!/usr/bin/env bash
# The runbook's "fetch a backup from an off-site copy by hand": rebuilds the original zip from a destination's
# folder (a folder destination, or a local copy of an S3 prefix or SFTP folder fetched with `aws s3 sync` / `sftp`),
# with stock tools only: age, gunzip and python3. Every object's SHA-256 and the whole archive's are checked.
# Usage: fetch-by-hand.sh <destination folder> <backup filename> <age identity file> <output zip>
set -euo pipefail
dest=$1 name=$2 identity=$3 out=$4
catalog="$dest/backups/$name.json"
[[ -f "$catalog" ]] || { echo "$catalog is missing: the destination holds no backup named $name" >&2; exit 1; }
python3 - "$dest" "$name" "$identity" "$out" <<'PY'
import base64, gzip, hashlib, json, os, subprocess, sys
dest, name, identity, out = sys.argv[1:5]
catalog = json.load(open(f"{dest}/backups/{name}.json"))
def read(key):
    path = os.path.join(dest, key)
    if not catalog["encrypted"]:
        return open(path, "rb").read()
    return subprocess.run(["age", "-d", "-i", identity, path], check=True, stdout=subprocess.PIPE).stdout
index = json.loads(gzip.decompress(read(catalog["index"]["key"])))
whole = hashlib.sha256()
with open(out + ".part", "wb") as f:
    for segment in index["segments"]:
        if segment.get("inline") is not None:
            data = base64.b64decode(segment["inline"])
        else:
            data = read(segment["object"])
            if hashlib.sha256(data).hexdigest() != segment["sha256"] or len(data) != segment["length"]:
                sys.exit(f"{segment['object']} is damaged: its content does not match the index")
        whole.update(data)
        f.write(data)
    f.flush()
    os.fsync(f.fileno())
if whole.hexdigest() != index["sha256"]:
    sys.exit("the rebuilt archive does not match the SHA-256 recorded at upload")
os.rename(out + ".part", out)
print(f"rebuilt {name}: {os.path.getsize(out)} bytes, SHA-256 {index['sha256']}")
PY
unzip -tq "$out"
