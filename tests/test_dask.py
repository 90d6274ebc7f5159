"""Reviews and Monte Carlo on a real Dask LocalCluster (2 worker processes): the same
outputs as the local run, byte for byte (batch) and to 1e-12 (simulate)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_fixtures import write_inputs, write_mini_template

from stratlab.errors import InputError
from stratlab.report import run_batch

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # a real LocalCluster of 2 processes


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes (1 thread each), closed after the module."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    dask_client = distributed.Client(cluster)
    try:
        yield dask_client
    finally:
        dask_client.close()
        cluster.close()


def test_simulate_on_dask_equals_local(client) -> None:
    from stratlab.datasets import load_example
    from stratlab.simulation import simulate

    model, history = load_example()
    kwargs = dict(samples=5000, seed=11, elapsed=0.5, chunk_size=2048)  # 3 chunks, 3 tasks
    local = simulate(model, history, **kwargs)
    remote = simulate(model, history, client=client, **kwargs)
    assert remote.seed == local.seed and remote.n_samples == local.n_samples
    np.testing.assert_allclose(remote._scores, local._scores, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(remote._weights, local._weights, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(remote.summary(), local.summary(), rtol=0, atol=1e-12)
    # whatever the chunking on the workers
    other = simulate(model, history, client=client, **{**kwargs, "chunk_size": 4096})
    np.testing.assert_allclose(other._scores, local._scores, rtol=0, atol=1e-12, equal_nan=True)


def _manifest(root: Path, *, south: bool = True) -> Path:
    folder = root / "units"
    folder.mkdir(parents=True)
    model, history = write_inputs(folder)
    write_mini_template(folder / "mini.ipynb")
    (folder / "broken.yaml").write_text("stratlab: 1\nname: Broken\nobjectivez: []\n")
    manifest = folder / "units.yaml"
    manifest.write_text(
        "template: mini.ipynb\n"
        "parameters: {seed: 3}\n"
        "units:\n"
        f"  - {{unit: north, model: {model.name}, history: {history.name}}}\n"
        + (
            f"  - {{unit: south, model: {model.name}, history: {history.name}, parameters: {{seed: 4}}}}\n"
            if south
            else ""
        )
        + f"  - {{unit: broken, model: broken.yaml, history: {history.name}}}\n",
        encoding="utf-8",
    )
    return manifest


@pytest.mark.kernel
def test_batch_on_dask_equals_the_local_pool_byte_for_byte(client, tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    local = run_batch(manifest, tmp_path / "local", jobs=2)
    remote = run_batch(manifest, tmp_path / "dask", client=client)
    assert list(remote["status"]) == ["ok", "ok", "failed"]  # the failure stays with its unit
    assert "objectivez" in remote.loc[2, "error"]
    pd.testing.assert_frame_equal(remote.drop(columns="output"), local.drop(columns="output"))
    assert [Path(p).name for p in remote["output"]] == [Path(p).name for p in local["output"]]
    files = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert files == ["group.html", "index.html", "north.html", "south.html"]
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == files
    for name in files:
        assert (tmp_path / "dask" / name).read_bytes() == (
            tmp_path / "local" / name
        ).read_bytes(), name


@pytest.mark.kernel
def test_cli_review_batch_on_a_local_cluster(tmp_path: Path) -> None:
    from stratlab.cli import main

    manifest = _manifest(tmp_path, south=False)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(
            [
                "review-batch",
                str(manifest),
                "-o",
                str(tmp_path / "out"),
                "--scheduler",
                "local:2",
                "--format",
                "csv",
            ]
        )
    assert code == 1  # one unit failed; the others were written
    table = pd.read_csv(io.StringIO(out.getvalue()), keep_default_na=False)
    assert list(table["status"]) == ["ok", "failed"]
    assert "dask: 2 workers at tcp://127.0.0.1:" in err.getvalue()
    assert "; dashboard: http://127.0.0.1:" in err.getvalue()  # bokeh comes with stratlab[dask]
    assert (tmp_path / "out" / "north.html").is_file()


@pytest.mark.parametrize(
    ("scheduler", "message"),
    [
        ("local:0", "asks for no workers"),
        ("locale:2", "neither local:N nor a scheduler address"),
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ],
)
def test_bad_scheduler(scheduler: str, message: str, tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    with pytest.raises(InputError, match=message):
        run_batch(manifest, tmp_path / "out", client=scheduler)
    assert not (tmp_path / "out" / "index.html").exists()
