"""Warm workers (cpts_diag.batch_pool, batch_worker --serve): one kernel per worker for several
reports, each report in its own folder, a fresh kernel after a failure, no process left behind.

The fixture notebook tests/fixtures/notebooks/warm.ipynb writes, into each report's
indicators.json, the pid and working directory of the kernel that ran it and the ids that kernel
had run before (a global kept across reports in a warm kernel)."""
from __future__ import annotations

import json
from pathlib import Path

import psutil

from cpts_diag import batch

WARM_NB = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "warm.ipynb"
IDS = ["ondaine-forez", "vallee-du-gier", "grand-saint-etienne"]


def _kernel(out: Path, cid: str) -> dict:
    return json.loads((out / cid / "indicators.json").read_text(encoding="utf-8"))["kernel"]


def _no_children() -> bool:
    return not [p for p in psutil.Process().children(recursive=True) if p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]


def test_one_worker_runs_every_report_in_one_kernel_each_in_its_folder(tmp_path):
    out = tmp_path / "out"
    code = batch.run_batch(IDS, jobs=1, out=out, notebook=WARM_NB, progress=False)
    assert code == 0
    kernels = {cid: _kernel(out, cid) for cid in IDS}
    assert len({k["pid"] for k in kernels.values()}) == 1  # one kernel for the three reports
    assert kernels["grand-saint-etienne"]["seen"] == ["ondaine-forez", "vallee-du-gier", "grand-saint-etienne"]
    for cid, k in kernels.items():  # each ran in its own build folder, renamed <out>/<cid> since
        assert Path(k["cwd"]).name.startswith(f".build-{cid}-")
        assert json.loads((out / cid / "indicators.json").read_text())["territory"]["id"] == cid
    nb = (out / "vallee-du-gier" / "rapport.ipynb").read_text(encoding="utf-8")
    assert "chdir" not in nb and "cpts-diag-setup" not in nb  # the setup cell is not kept
    assert _no_children()


def test_a_failed_report_gives_the_next_one_a_fresh_kernel_and_a_true_cell_number(tmp_path, capsys):
    out = tmp_path / "out"
    code = batch.run_batch(IDS, jobs=1, out=out, notebook=WARM_NB, progress=False,
                           parameters={"fail_for": "vallee-du-gier"})
    assert code == 1
    err = capsys.readouterr().err
    # cell 3 = parameters, injected parameters, body: the number a fresh kernel shows, not the
    # warm kernel's execution count (which had run ondaine-forez before)
    assert "ValueError: échec volontaire pour vallee-du-gier (cellule 3)" in err
    first, last = _kernel(out, "ondaine-forez"), _kernel(out, "grand-saint-etienne")
    assert first["pid"] != last["pid"] and last["seen"] == ["grand-saint-etienne"]
    assert not (out / "vallee-du-gier").exists()
    assert _no_children()


def test_a_worker_out_of_time_is_replaced(tmp_path, capsys):
    out = tmp_path / "out"
    code = batch.run_batch(IDS[:2], jobs=1, out=out, notebook=WARM_NB, progress=False, timeout=12,
                           parameters={"slow_for": "ondaine-forez"})
    assert code == 1
    assert "délai dépassé" in capsys.readouterr().err
    assert _kernel(out, "vallee-du-gier")["seen"] == ["vallee-du-gier"]  # a new worker and kernel
    assert not (out / "ondaine-forez").exists()
    assert _no_children()


def test_two_workers_share_the_reports(tmp_path):
    out = tmp_path / "out"
    ids = IDS + ["roannais-2019"]
    assert batch.run_batch(ids, jobs=2, out=out, notebook=WARM_NB, progress=False) == 0
    pids = [_kernel(out, cid)["pid"] for cid in ids]
    assert len(set(pids)) == 2  # four reports, two warm kernels (one per worker)
    assert _no_children()
