"""`train.workers`: accuracy cases trained in parallel processes give the records of the in-process run."""

from __future__ import annotations

import json

import pytest

from benchmarks.run import main

TIMINGS = ("train_wall_s",)


def _accuracy_records(out, data_cache, workers: int) -> list[dict]:
    argv = ["--suite", "accuracy", "--scale", "smoke", "--tasks", "sudoku", "--arms", "hrm,transformer",
            "--seeds", "0,1", "--out", str(out), "--set", f"train.cache_dir={data_cache}",
            "--set", "train.progress=false", "--set", f"train.workers={workers}"]
    assert main(argv) == 0
    records = json.loads((out / "results.json").read_text())["records"]
    for record in records:
        for name in list(record["metrics"]):
            if name.removesuffix("_std").removesuffix("_ci_low").removesuffix("_ci_high") in TIMINGS:
                del record["metrics"][name]
    return records


@pytest.mark.slow
def test_parallel_workers_reproduce_the_sequential_records_in_order(tmp_path, data_cache, tracking_uri):
    sequential = _accuracy_records(tmp_path / "one", data_cache, workers=1)
    parallel = _accuracy_records(tmp_path / "two", data_cache, workers=2)
    assert [(r["task"], r["arm"], r["seed"]) for r in parallel] == [(r["task"], r["arm"], r["seed"])
                                                                    for r in sequential]
    assert parallel == sequential
    assert all((tmp_path / "two" / "cases" / f"accuracy-{r['task']}-{r['arm']}-{r['seed']}" / "checkpoint.pt").is_file()
               for r in parallel if r["seed"] is not None)
