"""Every question the editor asks the user (``questions``), one function each so tests can answer.

May import: app.document, app.patches, inference.
"""
