from textkit.case import camel_to_snake, snake_to_camel


def test_snake_to_camel():
    assert snake_to_camel("http_status_code") == "httpStatusCode"


def test_camel_to_snake():
    assert camel_to_snake("parseUrl") == "parse_url"
