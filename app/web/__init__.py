"""The web layer: thin routers that parse, call a service, render."""
