"""HTML routes, one module per area: questionnaire, results, recipes."""
