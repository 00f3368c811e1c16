"""The browser dashboard for policy trainers (``ruralgov dashboard``), built on Mesa's
Solara-based visualisation. Downstream of the model: the model never imports it.

Needs the ``dashboard`` extra (``pip install 'ruralgov[dashboard]'``): Solara with its bundled
front-end assets, so the page works without internet.
"""
