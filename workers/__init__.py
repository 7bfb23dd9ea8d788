"""Process entry points only: build settings, logging, clients and activities; run the Worker."""
