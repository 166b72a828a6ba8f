"""Property tests of the count parser: every way people write a whole number reads back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.decision.quantities import MAX_COUNT, CountError, parse_count

counts = st.integers(0, MAX_COUNT)


def _grouped(n: int, sep: str) -> str:
    """n with its thousands separated by sep."""
    return f"{n:,}".replace(",", sep)


@given(counts)
def test_plain_digits(n: int) -> None:
    assert parse_count(str(n)) == n


@given(counts, st.sampled_from([",", " ", "_", "\u00a0", "\u202f", "'"]))
def test_thousands_grouped_by_one_separator(n: int, sep: str) -> None:
    assert parse_count(_grouped(n, sep)) == n


@given(counts, st.sampled_from(["about ", "About ", "around ", "roughly ", "~", "approx. ", "≈ "]))
def test_about_keeps_the_number(n: int, prefix: str) -> None:
    assert parse_count(prefix + f"{n:,}") == n


@given(
    st.integers(0, 10**6),
    st.sampled_from(
        [("k", 10**3), ("K", 10**3), ("M", 10**6), ("m", 10**6), (" million", 10**6), ("bn", 10**9)]
    ),
)
def test_scaled_whole_numbers(n: int, scale: tuple[str, int]) -> None:
    suffix, factor = scale
    assert parse_count(f"{n}{suffix}") == n * factor


@given(st.integers(0, 10**6), st.integers(1, 9))
def test_scaled_decimals_that_are_whole(n: int, tenth: int) -> None:
    assert parse_count(f"{n}.{tenth}k") == n * 1000 + tenth * 100


@given(st.integers(1, 10**6), st.sampled_from([",", " "]))
def test_mixed_or_misplaced_separators_are_refused(n: int, sep: str) -> None:
    text = _grouped(n * 1000 + 1, sep)
    broken = text[:-1] + sep + text[-1]  # a last group of one digit
    with pytest.raises(CountError):
        parse_count(broken)


@given(st.text(alphabet="abcxyz!?-+e.", min_size=1, max_size=8))
def test_text_without_a_number_is_refused(text: str) -> None:
    with pytest.raises(CountError) as err:
        parse_count(text)
    assert "3,000" in str(err.value) and "3k" in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "3.5",
        "1.0005k",
        "-3",
        "1e3",
        "3k5",
        "²",
        "3,00",
        "3,000 000",
        str(MAX_COUNT + 1),
        "2000000b",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(CountError):
        parse_count(text)
