"""Cloud Trace Service: the trace record, its store and the CTS v3 query API."""
