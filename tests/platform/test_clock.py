"""The business date is China's (UTC+8), whatever the server's own time zone."""

from datetime import UTC, date, datetime, tzinfo

import pytest

from jubao.platform import services
from jubao.platform.services import LocalClock


def frozen_at(moment: datetime) -> type[datetime]:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return moment.astimezone(tz)

    return Frozen


@pytest.mark.parametrize(
    ("utc", "business_date"),
    [
        # 17:00 on New Year's Eve in UTC is already 01:00 on New Year's Day in China: a payment
        # taken then is dated in the new year, and its contribution year is the new one
        (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC), date(2026, 12, 31)),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_today_is_the_date_in_china(
    monkeypatch: pytest.MonkeyPatch, utc: datetime, business_date: date
) -> None:
    monkeypatch.setattr(services, "datetime", frozen_at(utc))
    assert LocalClock().today() == business_date
    assert LocalClock(offset_hours=0).today() == utc.date()
