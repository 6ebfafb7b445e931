"""PDFs fetch nothing from the network or from elsewhere on the server's disk."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from kernel.pdf import html_to_pdf, portal_url_fetcher


@pytest.fixture
def listener():
    """A local web server that counts the requests it is sent."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def test_a_pdf_calls_no_address_and_reads_no_file_outside_the_static_folders(listener, tmp_path):
    base, hits = listener
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: blue }")
    html = (
        f'<link rel="stylesheet" href="{base}/style.css"><img src="{base}/pixel.png">'
        f'<link rel="stylesheet" href="{secret.as_uri()}"><p>Bill</p>'
    )

    pdf = html_to_pdf(html)

    assert pdf.startswith(b"%PDF") and hits == []
    fetcher = portal_url_fetcher()
    for url in (f"{base}/x.css", secret.as_uri(), "file:///etc/hostname", "ftp://example.com/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert hits == []


def test_the_portals_own_static_files_and_data_urls_are_served():
    fetcher = portal_url_fetcher()
    own = (Path(settings.BASE_DIR) / "static" / "css" / "portal.css").resolve()

    response = fetcher.fetch(own.as_uri())
    inline = fetcher.fetch("data:text/css,p%7Bcolor:red%7D")

    assert response.read() == own.read_bytes()
    assert inline.read() == b"p{color:red}"
