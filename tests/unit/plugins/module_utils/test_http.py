"""The shared HTTP layer never shows credentials or queries in the URLs of its messages."""

from ansible_collections.sre.runbooks.plugins.module_utils._http import (
    APIClient,
    APIError,
    connection_argument_spec,
    redact_url,
)


def test_redacted_url_drops_credentials_and_the_query_string():
    url = "https://admin:S3cret@prometheus.example:9090/api/v1/query?query=up&token=abc"
    assert redact_url(url) == "https://prometheus.example:9090/api/v1/query"


def test_an_unreachable_server_message_carries_no_credentials():
    client = APIClient("http://admin:S3cret@127.0.0.1:1", retries=0, timeout=1)
    try:
        client.request("GET", "/api/v1/query", "run query 'up'", params={"query": "up"})
    except APIError as error:
        message = str(error)
    else:
        raise AssertionError("a closed port answered")
    assert "S3cret" not in message
    assert "admin" not in message
    assert message.startswith("Failed to run query 'up': http://127.0.0.1:1/api/v1/query: ")


def test_secrets_and_headers_are_never_logged():
    spec = connection_argument_spec("PROMETHEUS")
    assert {name for name, option in spec.items() if option.get("no_log")} == {
        "token",
        "password",
        "headers",
    }
