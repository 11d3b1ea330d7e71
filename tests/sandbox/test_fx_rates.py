"""The simulator's USD rates are the warehouse's: sandbox/shop/fx_rates.csv against dbt_project/seeds/fx_rates.csv.

The sandbox reads no file of the warehouse, so it keeps its own copy of the monthly rates it prices the USD store
with; the marts convert that store's sales with the seed's rates, and the tests compare the two. A rate changed
in one file only would make them disagree silently, so every month both files hold must have the same rate."""

from __future__ import annotations

from sandbox.shop.calendar import FX_RATES, read_fx_rates
from tests.conftest import REPO, fx_rates


def test_the_simulators_rates_are_the_seeds_for_every_month_both_hold():
    frame = read_fx_rates()
    simulator = {
        (month.strftime("%Y-%m"), currency): rate
        for month, currency, rate in zip(frame["month"], frame["currency"], frame["rate_to_cny"], strict=True)
    }
    seed = fx_rates()
    both = sorted(simulator.keys() & seed.keys())
    assert len(both) >= 12, f"the simulator's and the seed's rates share only {both}"
    differ = {key: (simulator[key], seed[key]) for key in both if simulator[key] != seed[key]}
    assert not differ, f"{FX_RATES} differs from the seed, (simulator, seed) per month: {differ}"


def test_the_sandbox_reads_no_file_of_the_warehouse():
    assert FX_RATES.is_relative_to(REPO / "sandbox")
    mentions = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "sandbox").rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="ignore").splitlines(), 1)
        if "dbt_project" in line
    ]
    assert not mentions, f"the sandbox names dbt_project at {mentions}"
