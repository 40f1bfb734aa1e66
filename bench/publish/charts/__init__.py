"""Each figure of a leaderboard table defined once and drawn two ways.

``spec`` is the vocabulary (a chart of panels, axes, series, rules, heatmaps); ``data`` takes
the numbers from a table's rows and records; ``define`` holds one function per figure, from a
table to a chart; ``to_png`` draws a chart with matplotlib for the Markdown leaderboard and
``to_plotly`` turns it into the site's interactive figure. A new figure is one function in
``define``, placed by the figure planner (``bench.publish.figures``) and the site's pages.

May import ``bench.analysis``, ``bench.measure`` and ``bench.records`` (a table's rows and
records) and ``bench.publish.plots`` (matplotlib's setup and the PNG writer); matplotlib and
plotly only inside functions.
"""
