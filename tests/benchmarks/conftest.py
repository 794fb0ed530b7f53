"""Fixtures of the runner's tests: smoke-scale configs on a per-session dataset cache and MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks.config import RunConfig, resolve


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory) -> Path:
    """One dataset cache for the session, so each smoke dataset is generated once."""
    return tmp_path_factory.mktemp("data-cache")


@pytest.fixture
def smoke_config(data_cache):
    """`smoke_config("train.steps=4", ...)`: the smoke preset on the session cache, plus overrides."""

    def make(*overrides: str) -> RunConfig:
        return resolve("smoke", [f"train.cache_dir={data_cache}", "train.progress=false", *overrides])

    return make


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch) -> str:
    """An explicit SQLite MLflow store in the test's temporary folder."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture
def cpu() -> torch.device:
    return torch.device("cpu")
