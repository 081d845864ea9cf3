from imgopt.entrypoints.http.security_headers import API_POLICY, with_security_headers


def test_a_json_response_gets_every_header_and_the_strict_policy():
    headers = dict(with_security_headers([(b"content-type", b"application/json")]))

    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"no-referrer"
    assert headers[b"content-security-policy"] == API_POLICY


def test_a_page_keeps_its_own_policy_and_headers():
    own = [
        (b"content-type", b"text/html"),
        (b"content-security-policy", b"default-src 'self'"),
        (b"x-content-type-options", b"nosniff"),
    ]

    headers = with_security_headers(own)

    assert [value for name, value in headers if name == b"content-security-policy"] == [b"default-src 'self'"]
    assert [value for name, value in headers if name == b"x-content-type-options"] == [b"nosniff"]


def test_an_html_page_without_a_policy_of_its_own_gets_the_strict_one():
    headers = dict(with_security_headers([(b"content-type", b"text/html; charset=utf-8")]))

    assert headers[b"content-security-policy"] == API_POLICY and headers[b"referrer-policy"] == b"no-referrer"
