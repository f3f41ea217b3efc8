"""Controllers own the editors behaviour; the main window only wires them to actions:
``files`` (open, save, masks, recent), ``fills`` (Jobs and their Results), ``edges`` (HED overlay and
suggestions), ``layers`` (whole-layer Hole and Guide actions), ``tools`` (current tool, sizes), ``weights``
(importing weight files). Each offers ``action_handlers()``: action name -> handler.

May import: app.canvas and below, inference. Not app.compare (a neighbour) or app.window.
"""
