from helpers.text import some_of


def test_a_few_of_many_are_named_and_the_rest_counted():
    assert some_of([]) == ""
    assert some_of(["a", "b"]) == "a, b"
    assert some_of(list("abcdef")) == "a, b, c, d, e and 1 more"
    assert some_of(iter("abcd"), 3, sep="; ") == "a; b; c and 1 more"
