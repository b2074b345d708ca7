"""The README page's Markdown subset: what the README uses renders, and nothing in it becomes markup
unless it is one of those few constructs (links only http(s) or #anchors, images only from docs/)."""

from modelhub.readme import render_markdown


def test_the_constructs_the_readme_uses():
    html = render_markdown("## Admin tour\n\nSee *Speed*, **Home**, `a|b` and [hf](https://huggingface.co).\n\n"
                           "| Variable | Default |\n|---|---|\n| `X` | `1` |\n\n- one\n  more\n- two\n\n"
                           "1. first\n2. second\n\n```bash\n./run.sh <x>\n```\n![Dashboard](docs/dash.png)",
                           image_url=lambda name: f"/img/{name}")
    assert '<h2 id="admin-tour">Admin tour</h2>' in html
    assert ("<p>See <em>Speed</em>, <strong>Home</strong>, <code>a|b</code> and "
            '<a href="https://huggingface.co">hf</a>.</p>') in html
    assert "<thead><tr><th>Variable</th><th>Default</th></tr></thead>" in html
    assert "<tr><td><code>X</code></td><td><code>1</code></td></tr>" in html
    assert "<ul><li>one more</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<pre><code>./run.sh &lt;x&gt;</code></pre>" in html
    assert '<img src="/img/dash.png" alt="Dashboard" loading="lazy">' in html


def test_nothing_else_becomes_markup():
    html = render_markdown('<script>alert(1)</script> [x](javascript:alert(1)) ![y](/etc/passwd) "q"')
    assert "<script" not in html  # the link stays text: only http(s) and #anchors are linked
    assert "<a " not in html and "<img" not in html
    assert "&lt;script&gt;" in html
