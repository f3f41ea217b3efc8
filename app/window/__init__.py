"""The main window and what it is built from: the action table (``actions``), the panels
(``panels``), the menu and toolbar tables (``menus``), the Help menu (``help``) and start-up (``startup``).

May import: everything in app/ and inference/.
"""
