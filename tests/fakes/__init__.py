"""Fakes of the platforms' servers, reached by the real client libraries over loopback."""
