"""Services: plain functions with keyword-only arguments, each taking a session."""
