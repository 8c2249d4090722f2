"""Self-contained HTML of the interactive maps: Leaflet inlined from ``cpts_diag/templates/vendor``.

:func:`standalone_html` renders a folium map as a complete HTML page whose only library, Leaflet,
is inlined (no CDN); :func:`iframe_html` embeds it in a notebook output; :func:`inline_assets`
refuses any other external script or stylesheet, so every report opens without network.
"""
from __future__ import annotations

import base64
import html
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["VENDOR_DIR", "leaflet_css", "leaflet_js", "inline_assets", "standalone_html", "iframe_html"]

VENDOR_DIR = Path(__file__).resolve().parent.parent / "templates" / "vendor"


@lru_cache(maxsize=None)
def _vendor(name: str) -> str:
    path = VENDOR_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the Leaflet assets ship with cpts-diag in cpts_diag/templates/vendor. "
            "Fix: reinstall the package (pip install -e .) from a complete checkout.")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def leaflet_css() -> str:
    """Leaflet's CSS with its images inlined as data: URIs."""
    css = _vendor("leaflet.css")

    def repl(mo):
        p = VENDOR_DIR / "images" / Path(mo.group(1)).name
        if not p.exists():
            return "url(data:,)"
        return f"url(data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"

    return re.sub(r"url\((?:'|\")?images/([^)'\"]+)(?:'|\")?\)", repl, css)


def leaflet_js() -> str:
    return _vendor("leaflet.js")


_SCRIPT_SRC = re.compile(r'<script[^>]+src="(?P<url>[^"]+)"[^>]*>\s*</script>', re.I)
_LINK_CSS = re.compile(r'<link[^>]+href="(?P<url>[^"]+\.css)"[^>]*/?>', re.I)


def inline_assets(page: str) -> str:
    """Replace the Leaflet CDN references of a folium page by the vendored files (inlined).

    Raises ValueError if the page references any other external script or stylesheet: every
    report must open without network.
    """
    def js(mo):
        url = mo.group("url")
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.js$|/leaflet\.js$", url):
            return "<script>" + leaflet_js().replace("</script", "<\\/script") + "</script>"
        raise ValueError(f"external script {url} cannot be inlined (only Leaflet is vendored)")

    def css(mo):
        url = mo.group("url")
        if url.endswith("leaflet.css"):
            return "<style>" + leaflet_css() + "</style>"
        raise ValueError(f"external stylesheet {url} cannot be inlined (only Leaflet is vendored)")

    page = _SCRIPT_SRC.sub(js, page)
    return _LINK_CSS.sub(css, page)


def standalone_html(m) -> str:
    """A complete HTML page of the folium map ``m``, with Leaflet inlined (works offline)."""
    return inline_assets(m.get_root().render())


def iframe_html(m, height: int = 560) -> str:
    """An ``<iframe srcdoc>`` embedding of :func:`standalone_html`, for notebook outputs."""
    doc = html.escape(standalone_html(m), quote=True)
    return (f'<div class="cpts-map-wrap"><iframe class="cpts-map" srcdoc="{doc}" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd" sandbox="allow-scripts" '
            'loading="eager"></iframe></div>')
