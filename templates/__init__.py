"""The review notebook templates, shipped in the wheel as ``stratlab.templates``.

Each ``*.ipynb`` here is a papermill template whose ``parameters`` cell declares
the parameters :func:`stratlab.run_review` accepts.  See ``docs/ARCHITECTURE.md``
("where to add a template").
"""
