"""Job runners: the runner protocol, the local runner and the Ray runner."""
