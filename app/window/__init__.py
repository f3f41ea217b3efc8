"""The main window and what it is built from: the action table (``actions``), the panels
(``panels``) and start-up (``startup``)."""
