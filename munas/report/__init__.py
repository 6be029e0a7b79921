"""The run report: one self-contained HTML page of a search (``report``, ``search --report``).

:mod:`munas.report.data` computes what each chart shows (no plotting library, so it is tested as
numbers); :mod:`munas.report.page` draws it with plotly; :mod:`munas.report.live` rewrites the
page while a search runs.
"""
