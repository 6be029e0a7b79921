"""What keeping every finished candidate's weights costs in disk, from real search candidates.

The pruned architectures of the finished candidates of real searches
(``benchmarks/results/candidates-*.jsonl``) are built, their float ``state_dict`` serialised as
the run store keeps it (``torch.save`` bytes) and written into a real run store's weights
table; printed per data set: the mean blob, the store's growth per candidate, and the cost
scaled to a 2000-candidate run, against the int8 model size (what the device holds).

    python benchmarks/deploy_weights_disk.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path

from munas.search.store import RunStore
from munas.space.architecture import parse_architecture
from munas.training.checkpoint import weights_to_bytes
from munas.training.model import build_network

RESULTS = Path(__file__).parent / "results"
RUN_SIZE = 2000


def main() -> None:
    print(f"load: {os.getloadavg()} (1/5/15-min averages)")
    for path in sorted(RESULTS.glob("candidates-*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        finished = [r for r in rows if r["status"] == "ok" and r["pruned_architecture"]]
        blobs = [weights_to_bytes(build_network(parse_architecture(r["pruned_architecture"])).state_dict())
                 for r in finished]
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "candidates.sqlite"
            with RunStore(database) as store:
                before = database.stat().st_size
                for index, blob in enumerate(blobs):
                    store.add_weights(index, blob)
            grown = sum(p.stat().st_size for p in Path(folder).iterdir()) - before
        sizes = [len(b) for b in blobs]
        int8 = [r["model_size"] for r in finished]
        per_candidate = grown / len(blobs)
        print(f"{path.name}: {len(finished)} finished of {len(rows)} candidates; weights blob mean "
              f"{statistics.mean(sizes) / 1e3:.1f} KB (median {statistics.median(sizes) / 1e3:.1f}, max "
              f"{max(sizes) / 1e3:.1f}); store grows {per_candidate / 1e3:.1f} KB per candidate; "
              f"a {RUN_SIZE}-candidate run: {per_candidate * RUN_SIZE / 1e6:.1f} MB "
              f"(x{statistics.mean(sizes) / statistics.mean(int8):.1f} the int8 model size, mean "
              f"{statistics.mean(int8) / 1e3:.1f} KB)")


if __name__ == "__main__":
    main()
