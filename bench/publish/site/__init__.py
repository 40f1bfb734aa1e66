"""The static, offline web site of the leaderboard (``python -m bench report --format html``).

``build.publish_site`` writes ``index.html`` (every table of the Markdown leaderboard as a
sortable, filterable HTML table, the interactive Plotly figures of ``bench.publish.charts``, the ranking
across conditions), one page per leaderboard row under ``models/`` and the assets (the
bundled ``plotly.min.js``, ``site.js``, ``site.css``) from the run records alone: no CDN, no
URL outside the site, the same records give the same bytes.

May import the rest of ``bench.publish`` (the site is its top floor but for ``published``) and
what ``bench.publish`` may import; plotly only inside functions.
"""
