from confparse.ini import parse_ini


def test_section_and_keys():
    data = parse_ini("[server]\nport = 8080\n")
    assert data["server"]["port"] == "8080"
