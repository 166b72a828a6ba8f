"""Services: plain functions with keyword-only arguments, each taking the request's `Db`."""
