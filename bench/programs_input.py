# programs_input.py -- the deterministic inputs of bench/run_programs.sh:
#
#   python3 bench/programs_input.py sort|xz|sql SIZE_KIB|ROWS OUT
#
# sort: SIZE_KIB KiB of text lines of random letters (mean 31 bytes a line);
# xz:   SIZE_KIB KiB of words drawn from a skewed 8192-word vocabulary, with
#       runs of random bytes (xz packs it about 3:1);
# sql:  an SQL script that builds a table of ROWS rows in an in-memory
#       sqlite3 database, indexes it and prints checks of the result.
# Same arguments, same bytes (a fixed seed), so each run's output can be
# compared with the native run's.
import random
import sys

kind, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(20261127)
CHUNK = 1 << 20

if kind == "sort":
    # bytes below 8 become line ends (1 in 32), the rest 24 letters
    table = bytes((10 if b < 8 else 97 + b % 24) for b in range(256))
    with open(out, "wb") as f:
        for at in range(0, size * 1024, CHUNK):
            f.write(rng.randbytes(min(CHUNK, size * 1024 - at)).translate(table))
        f.write(b"\n")
elif kind == "xz":
    vocab = ["".join(rng.choice("etaoinshrdlucmfwypvbgkqjxz")
                     for _ in range(rng.randint(2, 12))) for _ in range(8192)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    with open(out, "w") as f:
        written = 0
        while written < size * 1024:
            words = rng.choices(vocab, weights, k=2000)
            text = " ".join(words) + "\n"
            # one chunk in eight carries random hex: the incompressible part
            if rng.random() < 0.125:
                text += rng.randbytes(1024).hex() + "\n"
            f.write(text)
            written += len(text)
elif kind == "sql":
    n = size
    with open(out, "w") as f:
        f.write(f"""PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -2000000;
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})
INSERT INTO t SELECT x, printf('%08x-%05d', (x * 2654435761) % 4294967296, x % 99991),
                     (x * 40503) % 65536 FROM c;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_v ON t(v, id);
SELECT count(*), sum(v), min(k), max(k) FROM t;
SELECT k, id FROM t ORDER BY k LIMIT 3 OFFSET {n // 2};
SELECT count(*) FROM t WHERE v BETWEEN 1000 AND 2000;
PRAGMA integrity_check;
""")
else:
    sys.exit(f"programs_input.py: unknown kind {kind!r} (sort, xz or sql)")
