# lists.py -- python3 building lists and dicts (about 200 MiB at its peak),
# then hashing them: the unmodified program of the preload benchmarks
# (bench/run_preload.sh, bench/ab.sh, bench/run_programs.sh) and tests
# (tests/preload).  An optional argument sets the count (default 1200000).
import hashlib
import sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1200000
l = [str(i) * 4 for i in range(n)]
d = {i: s for i, s in enumerate(l)}
h = hashlib.sha256()
for s in l:
    h.update(s.encode())
print(len(l), len(d), sum(len(v) for v in d.values()), h.hexdigest())
