from textkit.slug import slugify


def test_slugify_simple():
    assert slugify("Hello, World!") == "hello-world"
