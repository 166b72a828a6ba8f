"""View models for the templates, one module per area; `urls` builds every URL the app emits."""
