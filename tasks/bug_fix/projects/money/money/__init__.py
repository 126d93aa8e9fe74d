"""Exact money arithmetic in integer cents."""

from money.amount import Money, parse_money
from money.split import allocate, split_evenly

__all__ = ["Money", "allocate", "parse_money", "split_evenly"]
