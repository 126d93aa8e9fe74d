from confparse.values import parse_bool


def test_yes_is_true():
    assert parse_bool("yes") is True
