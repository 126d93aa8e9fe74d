from confparse.csvline import split_csv_line


def test_plain_fields():
    assert split_csv_line("a,b,c") == ["a", "b", "c"]
