"""Outbound HTTP made safe: address checks, a pinned-address transport, the fetcher and the webhook sender."""
