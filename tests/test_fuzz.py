"""The verifier fuzzer (llmgym.fuzz): its state diff, and that it finds real verifier gaps."""

from llmgym.fuzz import flatten, state_differences


def test_flatten_joins_keys_and_list_indices_and_keeps_empty_containers():
    state = {"a": {"b": [1, {"c": None}]}, "empty": {}, "none": []}
    assert flatten(state) == {"a/b/0": 1, "a/b/1/c": None, "empty": {}, "none": []}


def test_state_differences_reports_changed_added_and_removed_paths():
    before = {"bookings": {"R1": {"flight": "F1", "price": 100}}, "balance": 50}
    after = {"bookings": {"R1": {"flight": "F2", "price": 100}, "R2": {"flight": "F3"}}}
    diffs = state_differences(before, after)
    assert diffs == [
        "balance: 50 != '<absent>'",
        "bookings/R1/flight: 'F1' != 'F2'",
        "bookings/R2/flight: '<absent>' != 'F3'",
    ]


def test_declared_equivalences_hide_only_their_paths():
    before = {"bookings": {"R1": {"flight": "F1", "price": 100}}}
    after = {"bookings": {"R1": {"flight": "F2", "price": 120}}}
    assert state_differences(before, after, ("bookings/*/flight",)) == [
        "bookings/R1/price: 100 != 120"
    ]
    assert state_differences(before, after, ("bookings/*",)) == []
