"""The undo history: the Document seen from Qt (``model``: change signals, undo stack) and the
undo commands (``commands``) that change it. Commands know the model; the model knows no command.

May import: app.document, app.patches, inference.
"""
