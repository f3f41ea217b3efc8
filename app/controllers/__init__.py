"""Controllers own the editors behaviour; the main window only wires them to actions:
``files`` (open, save, masks, recent), ``fills`` (Jobs and their Results), ``edges`` (HED overlay and
suggestions)."""
