"""Resources: one module per part of the API, each a thin layer over the transport."""
