"""Closed integer intervals: merging, total length, membership and gaps."""


def merge(intervals):
    """Merge overlapping or touching ``(start, end)`` pairs, sorted by start."""
    cleaned = []
    for start, end in intervals:
        if start > end:
            raise ValueError(f"interval starts after it ends: {(start, end)}")
        cleaned.append((start, end))
    cleaned.sort()
    merged = []
    for start, end in cleaned:
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total_length(intervals):
    """How many integers the intervals cover (overlaps counted once)."""
    return sum(end - start + 1 for start, end in merge(intervals))


def contains(intervals, point):
    return any(start <= point <= end for start, end in intervals)


def gaps(intervals, lo, hi):
    """Sub-intervals of ``[lo, hi]`` not covered by ``intervals``."""
    out = []
    cursor = lo
    for start, end in merge(intervals):
        if end < lo or start > hi:
            continue
        if start > cursor:
            out.append((cursor, start - 1))
        cursor = max(cursor, end + 1)
    if cursor <= hi:
        out.append((cursor, hi))
    return out
