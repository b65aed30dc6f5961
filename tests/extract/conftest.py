"""Fixtures shared by the extract tests."""

import pytest

from extract.land import EarlyLanding


@pytest.fixture
def early(monkeypatch):
    """Every page of a first load lands in raw as soon as it is spooled (an early batch of its own, or
    with those spooled while the previous batch landed); yields the size of each batch landed."""
    monkeypatch.setattr("extract.run.EARLY_LANDING_BYTES", 1)
    batches = []
    land_batch = EarlyLanding.land

    def counted(self, files):
        batches.append(len(files))
        return land_batch(self, files)

    monkeypatch.setattr(EarlyLanding, "land", counted)
    return batches
