# Sourced by e2e tests (not a test itself: only test/e2e/*.sh are).
#
# secret_scan VALUES_FILE PATH...
#   Searches every file under each PATH for every value in VALUES_FILE (one per line) in its raw, hex
#   (lower and upper case), base64 and base64url forms, and inside longer base64 text at any of the three
#   alignments. Prints "FILE: FORM form of secret #N" for each hit (never the value) and returns 1 when
#   there is any hit, 0 when there is none. Values come from a file, never the command line.
secret_scan() {
  python3 - "$@" <<'PY'
import base64, os, sys

values_file, paths = sys.argv[1], sys.argv[2:]
values = [v.encode() for v in open(values_file, encoding="utf-8").read().splitlines() if v]
if not values:
    print("secret_scan: no values to look for", file=sys.stderr)
    sys.exit(2)

def forms(v):
    out = {"raw": v, "hex": v.hex().encode(), "HEX": v.hex().upper().encode(),
           "base64": base64.b64encode(v), "base64url": base64.urlsafe_b64encode(v).rstrip(b"=")}
    # Inside a longer base64 text the value's encoding depends on its offset mod 3; keep the characters
    # that do not depend on its neighbours.
    if len(v) >= 8:
        for shift in range(3):
            enc = base64.b64encode(b"\0" * shift + v)
            lead = (shift * 4 + 2) // 3
            body = enc[lead:len(enc) - 4]
            out[f"base64@{shift}"] = body
            out[f"base64url@{shift}"] = body.replace(b"+", b"-").replace(b"/", b"_")
    return out

all_forms, seen = [], set()
for i, v in enumerate(values):
    for name, f in forms(v).items():
        if len(f) >= 4 and (i, f) not in seen:
            seen.add((i, f))
            all_forms.append((i + 1, name, f))
files = []
for p in paths:
    if os.path.isdir(p):
        for root, _, names in os.walk(p):
            files += [os.path.join(root, n) for n in names]
    elif os.path.exists(p):
        files.append(p)
hits = 0
for path in sorted(files):
    try:
        data = open(path, "rb").read()
    except OSError as e:
        print(f"secret_scan: cannot read {path}: {e.strerror}", file=sys.stderr)
        hits += 1
        continue
    for n, name, f in all_forms:
        if f in data:
            print(f"{path}: {name} form of secret #{n}")
            hits += 1
print(f"secret_scan: {len(files)} files, {len(values)} secrets, {hits} hits", file=sys.stderr)
sys.exit(1 if hits else 0)
PY
}
