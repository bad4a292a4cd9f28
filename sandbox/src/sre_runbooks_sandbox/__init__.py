"""A simulated Kubernetes cluster for trying runbooks without a real cluster.

The sandbox answers on 127.0.0.1 the way a real API server does, so the official `kubernetes`
client, the kubernetes.core modules and `kubectl` talk to it unchanged. See docs/sandbox.md.
"""
